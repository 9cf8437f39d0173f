{{/* Names and labels shared by every template. */}}

{{- define "kubeskippy.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: the release name, plus the chart name unless the release name already contains it. */}}
{{- define "kubeskippy.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubeskippy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubeskippy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller-manager
{{- end -}}

{{- define "kubeskippy.labels" -}}
{{ include "kubeskippy.selectorLabels" . }}
app.kubernetes.io/part-of: kubeskippy
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kubeskippy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kubeskippy.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kubeskippy.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The operator's configuration file (keys: src/config/operator-config.ts). */}}
{{- define "kubeskippy.config" -}}
namespace: {{ .Release.Namespace }}
leaderElection:
  # Only the leader acts; with one replica there is nobody to elect.
  enabled: {{ gt (int .Values.replicaCount) 1 }}
  leaseName: {{ include "kubeskippy.fullname" . }}-leader
{{- if gt (int .Values.sharding.shards) 1 }}
{{- if le (int .Values.replicaCount) 1 }}
{{- fail "sharding.shards > 1 needs replicaCount > 1: each shard is a Lease, and leader election is on only with several replicas" }}
{{- end }}
sharding:
  shards: {{ .Values.sharding.shards }}
{{- end }}
# In a container the servers listen on 0.0.0.0, not on the default 127.0.0.1: the kubelet's probes, Prometheus
# and the Services reach the pod through its pod IP, never through the pod's loopback interface.
metricsBindAddress: 0.0.0.0:8080
dashboardBindAddress: 0.0.0.0:8081
healthBindAddress: 0.0.0.0:8082
logLevel: {{ .Values.logLevel }}
dryRun: {{ .Values.mode.dryRun }}
paused: {{ .Values.mode.paused }}
protectedNamespaces:
{{- range (uniq (append .Values.protectedNamespaces .Release.Namespace)) }}
- {{ . }}
{{- end }}
maxActionsPerHour: {{ .Values.maxActionsPerHour }}
aiMaxActionsPerHour: {{ .Values.ai.maxActionsPerHour }}
prometheus:
{{- if .Values.prometheus.url }}
  url: {{ .Values.prometheus.url | quote }}
{{- else }} {}
{{- end }}
{{- with .Values.notifications.sinks }}
# Sinks as given in values (notifications.sinks); the operator refuses to start on a bad one.
notifications:
  sinks:
    {{- toYaml . | nindent 4 }}
{{- end }}
ai:
  provider: {{ .Values.ai.provider }}
{{- if ne .Values.ai.provider "none" }}
{{- with .Values.ai.url }}
  url: {{ . | quote }}
{{- end }}
{{- with .Values.ai.model }}
  model: {{ . | quote }}
{{- end }}
{{- if .Values.ai.apiKeySecret.name }}
  # The key itself reaches the process as an environment variable (secretKeyRef in the Deployment).
  apiKeyEnv: AI_API_KEY
{{- end }}
{{- end }}
{{- end -}}
