{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "level5.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name: <release>-level5 unless the release name already contains it. */}}
{{- define "level5.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "level5.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "level5.selectorLabels" -}}
app.kubernetes.io/name: {{ include "level5.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "level5.labels" -}}
helm.sh/chart: {{ include "level5.chart" . }}
app.kubernetes.io/name: {{ include "level5.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: level5
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "level5.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "level5.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "level5.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The webhook Service: <release>-level5-webhook (the Service the API server calls). */}}
{{- define "level5.webhookServiceName" -}}
{{- printf "%s-webhook" (include "level5.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "level5.webhookSecretName" -}}
{{- default (printf "%s-webhook-tls" (include "level5.fullname" .)) .Values.webhook.tls.secretName }}
{{- end }}

{{- define "level5.metricsServiceName" -}}
{{- printf "%s-metrics" (include "level5.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "level5.redactionSecretName" -}}
{{- default (printf "%s-redaction" (include "level5.fullname" .)) .Values.redaction.existingSecret }}
{{- end }}

{{- define "level5.auditClaimName" -}}
{{- default (printf "%s-audit" (include "level5.fullname" .)) .Values.audit.persistence.existingClaim }}
{{- end }}

{{/* The restricted container securityContext shared by the operator and the test pod. */}}
{{- define "level5.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "level5.syscallMonitorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "level5.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: syscall-monitor
{{- end }}

{{/* The operator's LEVEL5_SYSCALL_MONITOR_URL: the chart's collector on the pod's node, or `syscallMonitor.url`. */}}
{{- define "level5.syscallMonitorURL" -}}
{{- if .Values.syscallMonitor.enabled }}
{{- printf "http://{hostIP}:%d" (int .Values.syscallMonitor.port) }}
{{- else }}
{{- .Values.syscallMonitor.url }}
{{- end }}
{{- end }}

{{/*
The namespaces of the warm pools (sandbox.pools), each once, as a JSON list.
*/}}
{{- define "level5.poolNamespaces" -}}
{{- $seen := list -}}
{{- range .Values.sandbox.pools -}}
{{- $seen = append $seen .namespace -}}
{{- end -}}
{{- $seen | uniq | toJson -}}
{{- end -}}

{{/* The namespaces where the operator may attach to sandbox pods: its pools' and sandbox.namespaces (a cold
iteration runs there in a streamed pod, fed over attach streams; elsewhere its pod is ConfigMap-fed). */}}
{{- define "level5.attachNamespaces" -}}
{{- concat (include "level5.poolNamespaces" . | fromJsonArray) .Values.sandbox.namespaces | uniq | toJson -}}
{{- end -}}

{{/* The ClusterKopfPeering object of the release's operators (cluster-scoped: the namespace is in the name). */}}
{{- define "level5.peeringName" -}}
{{- printf "%s-%s" .Release.Namespace (include "level5.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
