{{/* Chart name, overridable. */}}
{{- define "tw-webhooks.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: release-chart, or the release name when it already contains the chart name. */}}
{{- define "tw-webhooks.fullname" -}}
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

{{- define "tw-webhooks.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tw-webhooks.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tw-webhooks.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tw-webhooks.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: triagewarden
{{- end }}

{{- define "tw-webhooks.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tw-webhooks.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tw-webhooks.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* "true" when MongoDB is the store (a URI or a Secret holding one). */}}
{{- define "tw-webhooks.mongodb" -}}
{{- if or .Values.mongodb.uri .Values.mongodb.existingSecret.name }}true{{ end }}
{{- end }}

{{/* The Secret and key MONGODB_URI comes from. */}}
{{- define "tw-webhooks.mongodbSecretName" -}}
{{- default (printf "%s-mongodb" (include "tw-webhooks.fullname" .)) .Values.mongodb.existingSecret.name }}
{{- end }}

{{/* Refuses value combinations that would lose data or cannot work, with the reason. */}}
{{- define "tw-webhooks.validate" -}}
{{- if and .Values.mongodb.uri .Values.mongodb.existingSecret.name }}
{{- fail "tw-webhooks: set either mongodb.uri or mongodb.existingSecret.name, not both" }}
{{- end }}
{{- if and .Values.backup.enabled (include "tw-webhooks.mongodb" .) }}
{{- fail "tw-webhooks: backup.enabled backs up the embedded store; MongoDB is backed up with mongodump or volume snapshots (docs/operations.md, \"Backup and restore\")" }}
{{- end }}
{{- if and (gt (int .Values.retention.rawBodyDays) (int .Values.retention.days)) (gt (int .Values.retention.days) 0) }}
{{- fail "tw-webhooks: retention.rawBodyDays must not exceed retention.days: a raw body is kept at most as long as its incident" }}
{{- end }}
{{- if and (not (include "tw-webhooks.mongodb" .)) (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) }}
{{- fail "tw-webhooks: more than one replica (replicaCount > 1 or autoscaling.enabled) needs MongoDB: set mongodb.uri or mongodb.existingSecret.name. On the embedded store each pod would keep its own data." }}
{{- end }}
{{- end }}

{{/* The label matchers every alert and dashboard query puts on our series (the ServiceMonitor's job is the Service name). */}}
{{- define "tw-webhooks.metricSelector" -}}
job="{{ include "tw-webhooks.fullname" . }}",namespace="{{ .Release.Namespace }}"
{{- end }}

{{/* A Prometheus duration of one unit (30s, 10m, 6h, 1d, 1w) in seconds. */}}
{{- define "tw-webhooks.durationSeconds" -}}
{{- $units := dict "s" 1 "m" 60 "h" 3600 "d" 86400 "w" 604800 }}
{{- $unit := regexFind "[smhdw]$" . }}
{{- mul (trimSuffix $unit . | int) (get $units $unit) }}
{{- end }}

{{- define "tw-webhooks.monitoringApi" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}true{{ end }}
{{- end }}

{{- /* What the sources provider and the controller read and write where WebhookSources live. Secrets:
RBAC cannot select by label; the informer only lists those labelled triagewarden.io/webhook-secret. */}}
{{- define "tw-webhooks.watchRules" -}}
- apiGroups: [triagewarden.io]
  resources: [webhooksources]
  verbs: [get, list, watch]
- apiGroups: [triagewarden.io]
  resources: [webhooksources/status]
  verbs: [update, patch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}
