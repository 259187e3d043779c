{{/* Names, labels and the environment shared by the templates. */}}

{{- define "antrian.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "antrian.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "antrian.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "antrian.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: antrian
{{- end -}}

{{/* selector labels of one service: (dict "root" $ "service" "ticketing") */}}
{{- define "antrian.selectorLabels" -}}
app.kubernetes.io/name: {{ include "antrian.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{- define "antrian.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "antrian.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "antrian.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "antrian.kafkaBootstrap" -}}
{{- if .Values.kafka.bootstrapServers -}}
{{- .Values.kafka.bootstrapServers -}}
{{- else -}}
{{- printf "%s-kafka-bootstrap:9092" .Values.kafka.name -}}
{{- end -}}
{{- end -}}

{{- define "antrian.adminSecret" -}}
{{- default (printf "%s-admin" (include "antrian.fullname" .)) .Values.admin.existingSecret -}}
{{- end -}}

{{- define "antrian.dbOwnerSecret" -}}
{{- default (printf "%s-db-owner" (include "antrian.fullname" .)) .Values.postgres.existingSecret -}}
{{- end -}}

{{/* A random password, or the one a Secret of that name already holds (kept across upgrades). */}}
{{- define "antrian.keptPassword" -}}
{{- $secret := lookup "v1" "Secret" .root.Release.Namespace .name -}}
{{- if and $secret $secret.data (hasKey $secret.data .key) -}}
{{- index $secret.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum 32 -}}
{{- end -}}
{{- end -}}

{{/* DATABASE_URL, from the CloudNativePG owner's credentials or an external Secret. */}}
{{- define "antrian.databaseEnv" -}}
{{- if .Values.postgres.create }}
- name: DB_USER
  valueFrom:
    secretKeyRef: {name: {{ include "antrian.dbOwnerSecret" . }}, key: username}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "antrian.dbOwnerSecret" . }}, key: password}
- name: DATABASE_URL
  value: {{ printf "postgresql://$(DB_USER):$(DB_PASSWORD)@%s-rw:5432/%s" .Values.postgres.name .Values.postgres.database | quote }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ required "postgres.externalUrlSecret is needed when postgres.create is false" .Values.postgres.externalUrlSecret }}, key: DATABASE_URL}
{{- end }}
{{- end -}}

{{/* Kafka and logging, for every service: (dict "root" $ "service" "ticketing") */}}
{{- define "antrian.commonEnv" -}}
{{- $v := .root.Values -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ include "antrian.kafkaBootstrap" .root | quote }}
- name: ANTRIAN_EVENTS_TOPIC
  value: {{ $v.topics.events.name | quote }}
- name: ANTRIAN_LOG_FORMAT
  value: json
- name: ANTRIAN_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
{{- if $v.kafka.authentication.enabled }}
- name: KAFKA_SECURITY_PROTOCOL
  value: SASL_PLAINTEXT
- name: KAFKA_SASL_MECHANISM
  value: SCRAM-SHA-512
- name: KAFKA_SASL_USERNAME
  value: {{ printf "antrian-%s" .service | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ printf "antrian-%s" .service }}, key: password}
{{- end }}
{{- end -}}

{{/* The environment of one service: (dict "root" $ "service" "ticketing") */}}
{{- define "antrian.serviceEnv" -}}
{{- $v := .root.Values -}}
{{- $ticketingUrl := printf "http://%s-ticketing:%v" (include "antrian.fullname" .root) $v.ticketing.port -}}
{{- include "antrian.commonEnv" . }}
{{- if eq .service "ticketing" }}
{{- include "antrian.databaseEnv" .root }}
- name: ANTRIAN_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "antrian.adminSecret" .root }}, key: ANTRIAN_ADMIN_PASSWORD}
- name: TICKETING_PORT
  value: {{ $v.ticketing.port | quote }}
- name: TICKETING_DB_POOL_SIZE
  value: {{ $v.ticketing.dbPoolSize | quote }}
- name: TICKETING_TOKEN_TTL_SECONDS
  value: {{ $v.ticketing.tokenTtlSeconds | quote }}
{{- with $v.ticketing.publicUrl }}
- name: TICKETING_PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- else if eq .service "display" }}
- name: ANTRIAN_DLQ_TOPIC
  value: {{ $v.topics.dlq.name | quote }}
- name: DISPLAY_PORT
  value: {{ $v.display.port | quote }}
- name: DISPLAY_TICKETING_URL
  value: {{ $ticketingUrl | quote }}
- name: DISPLAY_DEFAULT_TIMEZONE
  value: {{ $v.display.defaultTimezone | quote }}
- name: DISPLAY_PING_INTERVAL
  value: {{ $v.display.pingInterval | quote }}
- name: DISPLAY_AUDIO_CACHE
  value: /var/cache/antrian/audio
{{- with $v.display.allowedOrigins }}
- name: DISPLAY_ALLOWED_ORIGINS
  value: {{ . | quote }}
{{- end }}
{{- else if eq .service "metrics" }}
{{- include "antrian.databaseEnv" .root }}
- name: ANTRIAN_DLQ_TOPIC
  value: {{ $v.topics.dlq.name | quote }}
- name: METRICS_PORT
  value: {{ $v.metrics.port | quote }}
- name: METRICS_CONSUMER_GROUP
  value: {{ $v.metrics.consumerGroup | quote }}
- name: METRICS_DEFAULT_TIMEZONE
  value: {{ $v.metrics.defaultTimezone | quote }}
- name: METRICS_PROCESSED_RETENTION_DAYS
  value: {{ $v.metrics.processedRetentionDays | quote }}
{{- end }}
{{- with (index $v .service).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "antrian.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
