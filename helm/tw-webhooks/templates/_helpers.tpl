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

{{/* The control plane's pods (MongoDB only). Their own app name keeps them out of the receiver
Deployment's selector, which is the previous releases' one and immutable. */}}
{{- define "tw-webhooks.controlSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-control" (include "tw-webhooks.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tw-webhooks.controlFullname" -}}
{{- printf "%s-control" (include "tw-webhooks.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "true" when the planes run apart: MongoDB, so receivers and the control plane share the store. */}}
{{- define "tw-webhooks.planesApart" -}}
{{- include "tw-webhooks.mongodb" . }}
{{- end }}

{{/* The ServiceAccount of the receiving pods (the one pod on the embedded store). */}}
{{- define "tw-webhooks.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tw-webhooks.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The ServiceAccount of the controller and the /api routes: the control plane's, or the one pod's. */}}
{{- define "tw-webhooks.controlServiceAccountName" -}}
{{- if not (include "tw-webhooks.planesApart" .) }}
{{- include "tw-webhooks.serviceAccountName" . }}
{{- else }}
{{- default (include "tw-webhooks.controlFullname" .) .Values.serviceAccount.controlName }}
{{- end }}
{{- end }}

{{- define "tw-webhooks.registrationNamespace" -}}
{{- default (printf "%s-sources" .Release.Name) .Values.registrationApi.namespace }}
{{- end }}

{{/* The namespaces read, comma-separated (TW_WATCH_NAMESPACES); empty only for watchAllNamespaces. */}}
{{- define "tw-webhooks.watchedNamespaces" -}}
{{- if not .Values.watchAllNamespaces }}
{{- $namespaces := .Values.watchNamespaces | default (list .Release.Namespace) }}
{{- if .Values.registrationApi.enabled }}
{{- $namespaces = append $namespaces (include "tw-webhooks.registrationNamespace" .) }}
{{- end }}
{{- $namespaces | uniq | join "," }}
{{- end }}
{{- end }}

{{/* TW_DRAIN_DELAY_SECONDS: the value, else 15 where another pod takes the traffic (MongoDB), else 0. */}}
{{- define "tw-webhooks.drainDelaySeconds" -}}
{{- if kindIs "invalid" .Values.drainDelaySeconds }}
{{- if include "tw-webhooks.mongodb" . }}15{{ else }}0{{ end }}
{{- else }}
{{- .Values.drainDelaySeconds }}
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
{{- if and .Values.watchAllNamespaces .Values.watchNamespaces }}
{{- fail "tw-webhooks: set either watchAllNamespaces or watchNamespaces, not both" }}
{{- end }}
{{- if and .Values.registrationApi.enabled (eq (include "tw-webhooks.registrationNamespace" .) .Release.Namespace) }}
{{- fail (printf "tw-webhooks: registrationApi.namespace must not be the release namespace (%s): the registration Role may create and change any Secret of its namespace, and the release's own Secrets (the Helm release, the MongoDB URI, the API keys) live there. Leave it empty for %s-sources, or name another namespace." .Release.Namespace .Release.Name) }}
{{- end }}
{{- if and (include "tw-webhooks.planesApart" .) (not .Values.serviceAccount.create) (not .Values.serviceAccount.controlName) }}
{{- fail "tw-webhooks: with MongoDB the control plane runs as its own ServiceAccount: set serviceAccount.controlName when serviceAccount.create is false" }}
{{- end }}
{{- $drain := int (include "tw-webhooks.drainDelaySeconds" .) }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (add $drain 15) }}
{{- fail (printf "tw-webhooks: terminationGracePeriodSeconds (%d) must be at least the drain delay (%d) + 15: the service then takes up to 10 s for in-flight requests and flushes its stores" (int .Values.terminationGracePeriodSeconds) $drain) }}
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

{{- /* What the controller reads and writes where WebhookSources live. Secrets: RBAC cannot select by
label; the informer lists only those labelled triagewarden.io/webhook-secret, and `get` is the one read
that tells a missing Secret from an unlabelled one. */}}
{{- define "tw-webhooks.controllerRules" -}}
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

{{- /* What a receiver reads: the two informers (list and watch), nothing else. */}}
{{- define "tw-webhooks.receiverRules" -}}
- apiGroups: [triagewarden.io]
  resources: [webhooksources]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [list, watch]
{{- end }}

{{- /* On every Service with /metrics: the ServiceMonitor selects on it and takes the job name from it,
so the series of both planes carry job="<fullname>", which the alerts and the dashboard select. */}}
{{- define "tw-webhooks.metricsJobLabel" -}}
triagewarden.io/metrics-job: {{ include "tw-webhooks.fullname" . }}
{{- end }}
