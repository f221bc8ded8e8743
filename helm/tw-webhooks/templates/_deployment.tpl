{{- /*
One Deployment of a plane (TW_MODE), from one pod template:
- all:      the embedded store's one pod: both listeners, controller, API, workers (one writer, Recreate);
- receiver: with MongoDB, the receiver listener and probes; reads WebhookSources and their Secrets;
- control:  with MongoDB, the controller (status, Events, Lease), the /api routes and the workers.
The receiver Deployment keeps the name and selector of earlier releases' one Deployment (a selector is
immutable), so an upgrade rolls its pods instead of replacing it.
*/}}
{{- define "tw-webhooks.deployment" -}}
{{- $root := .root }}
{{- $plane := .plane }}
{{- $values := $root.Values }}
{{- $mongodb := include "tw-webhooks.mongodb" $root }}
{{- $receives := ne $plane "control" }}
{{- $controls := ne $plane "receiver" }}
{{- $selector := include "tw-webhooks.selectorLabels" $root }}
{{- if eq $plane "control" }}{{ $selector = include "tw-webhooks.controlSelectorLabels" $root }}{{ end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ if eq $plane "control" }}{{ include "tw-webhooks.controlFullname" $root }}{{ else }}{{ include "tw-webhooks.fullname" $root }}{{ end }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "tw-webhooks.labels" $root | nindent 4 }}
    {{- if ne $plane "all" }}
    app.kubernetes.io/component: {{ $plane }}
    {{- end }}
spec:
  {{- if eq $plane "control" }}
  replicas: {{ $values.control.replicaCount }}
  {{- else if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    {{- if $mongodb }}
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
    {{- else }}
    # The embedded store has one writer and its volume is ReadWriteOnce: the old pod stops before the new one starts.
    type: Recreate
    {{- end }}
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- $selector | nindent 8 }}
        {{- if ne $plane "all" }}
        app.kubernetes.io/component: {{ $plane }}
        {{- end }}
        {{- with $values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # A changed sources file restarts the pods (the file provider also reloads it, this makes it certain).
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ if eq $plane "control" }}{{ include "tw-webhooks.controlServiceAccountName" $root }}{{ else }}{{ include "tw-webhooks.serviceAccountName" $root }}{{ end }}
      automountServiceAccountToken: true
      {{- with $values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- toYaml $values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      containers:
        - name: tw-webhooks
          image: {{ include "tw-webhooks.image" $root }}
          imagePullPolicy: {{ $values.image.pullPolicy }}
          securityContext:
            {{- toYaml $values.securityContext | nindent 12 }}
          ports:
            # PORT: everything the plane serves (the /api routes, /metrics, /openapi.json, probes).
            - name: http
              containerPort: 8080
              protocol: TCP
            {{- if $receives }}
            # TW_RECEIVER_PORT: only POST /api/webhooks/<source> and the probes; the public Service's target.
            - name: receiver
              containerPort: 8081
              protocol: TCP
            {{- end }}
          env:
            - name: TW_MODE
              value: {{ $plane }}
            - name: PORT
              value: "8080"
            {{- if $receives }}
            - name: TW_RECEIVER_PORT
              value: "8081"
            {{- end }}
            - name: TW_DATA_DIR
              value: /var/lib/tw-webhooks
            - name: LOG_LEVEL
              value: {{ $values.logLevel | quote }}
            - name: TW_KUBERNETES
              value: "true"
            - name: TW_POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: TW_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: TW_WATCH_NAMESPACES
              value: {{ include "tw-webhooks.watchedNamespaces" $root | quote }}
            - name: TW_DRAIN_DELAY_SECONDS
              value: {{ include "tw-webhooks.drainDelaySeconds" $root | quote }}
            {{- if $controls }}
            - name: TW_REGISTRATION_API
              value: {{ $values.registrationApi.enabled | quote }}
            {{- if $values.registrationApi.enabled }}
            - name: TW_REGISTRATION_NAMESPACE
              value: {{ include "tw-webhooks.registrationNamespace" $root | quote }}
            {{- end }}
            - name: TW_LEASE_DURATION_SECONDS
              value: {{ $values.leaderElection.leaseDurationSeconds | quote }}
            - name: TW_LEASE_RENEW_DEADLINE_SECONDS
              value: {{ $values.leaderElection.renewDeadlineSeconds | quote }}
            - name: TW_LEASE_RETRY_PERIOD_SECONDS
              value: {{ $values.leaderElection.retryPeriodSeconds | quote }}
            # Retention and backups run in the control plane.
            - name: TW_RETENTION_DAYS
              value: {{ $values.retention.days | quote }}
            - name: TW_RAW_BODY_RETENTION_DAYS
              value: {{ $values.retention.rawBodyDays | quote }}
            {{- if $values.backup.enabled }}
            - name: TW_BACKUP_DIR
              value: /var/backups/tw-webhooks
            - name: TW_BACKUP_INTERVAL_HOURS
              value: {{ $values.backup.intervalHours | quote }}
            - name: TW_BACKUP_KEEP
              value: {{ $values.backup.keep | quote }}
            {{- end }}
            {{- end }}
            {{- with $values.trustedProxies }}
            - name: TW_TRUSTED_PROXIES
              value: {{ join "," . | quote }}
            {{- end }}
            {{- if $values.config.sources }}
            - name: TW_CONFIG
              value: /etc/tw-webhooks/webhook_config.yaml
            {{- end }}
            {{- if $mongodb }}
            - name: MONGODB_URI
              valueFrom:
                secretKeyRef:
                  name: {{ include "tw-webhooks.mongodbSecretName" $root }}
                  key: {{ $values.mongodb.existingSecret.key }}
            {{- end }}
            {{- if $controls }}
            {{- with $values.apiKey.existingSecret.name }}
            - name: TW_API_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ . }}
                  key: {{ $values.apiKey.existingSecret.key }}
            {{- end }}
            {{- end }}
            {{- with $values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          # Started: the process listens. Live: it still answers. Ready: sources synced and the store
          # reachable; a stopping pod fails it at once and keeps serving for the drain delay. A receiver is
          # probed on the listener it serves from.
          {{- $probePort := ternary "receiver" "http" (eq $plane "receiver") }}
          startupProbe:
            httpGet:
              path: /healthz
              port: {{ $probePort }}
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet:
              path: /healthz
              port: {{ $probePort }}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: {{ $probePort }}
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          volumeMounts:
            - name: data
              mountPath: /var/lib/tw-webhooks
            - name: tmp
              mountPath: /tmp
            {{- if and $controls $values.backup.enabled }}
            - name: backups
              mountPath: /var/backups/tw-webhooks
            {{- end }}
            {{- if $values.config.sources }}
            - name: config
              mountPath: /etc/tw-webhooks
              readOnly: true
            {{- end }}
      volumes:
        - name: data
          {{- if and $values.persistence.enabled (not $mongodb) }}
          persistentVolumeClaim:
            claimName: {{ default (printf "%s-data" (include "tw-webhooks.fullname" $root)) $values.persistence.existingClaim }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if and $controls $values.backup.enabled }}
        - name: backups
          persistentVolumeClaim:
            claimName: {{ default (printf "%s-backups" (include "tw-webhooks.fullname" $root)) $values.backup.persistence.existingClaim }}
        {{- end }}
        {{- if $values.config.sources }}
        - name: config
          configMap:
            name: {{ include "tw-webhooks.fullname" $root }}-config
        {{- end }}
      affinity:
        {{- if $values.affinity }}
        {{- toYaml $values.affinity | nindent 8 }}
        {{- else }}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- $selector | nindent 20 }}
        {{- end }}
      topologySpreadConstraints:
        {{- if $values.topologySpreadConstraints }}
        {{- toYaml $values.topologySpreadConstraints | nindent 8 }}
        {{- else }}
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- $selector | nindent 14 }}
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- $selector | nindent 14 }}
        {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
