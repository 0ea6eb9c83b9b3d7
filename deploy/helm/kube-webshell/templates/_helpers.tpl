{{- define "kws.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kws.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kws.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kws.serviceAccount" -}}
{{- default (include "kws.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "kws.secretName" -}}
{{- default (include "kws.fullname" .) .Values.secret.existingSecret -}}
{{- end -}}

{{- define "kws.impersonates" -}}
{{- if or .Values.impersonate (contains "=impersonate" (join "," .Values.clusterAuth | nospace)) }}true{{ end -}}
{{- end -}}

{{- define "kws.hasSecret" -}}
{{- if or .Values.secret.create .Values.secret.existingSecret }}true{{ end -}}
{{- end -}}

{{/* The container's env as the chart sets it from values (deployment.yaml adds env and extraEnv). */}}
{{- define "kws.env" -}}
{{- $secret := include "kws.secretName" . -}}
- {name: KWS_HOST, value: "0.0.0.0"}
- {name: KWS_PORT, value: "8080"}
- {name: KWS_INSTANCE_DIR, value: /var/lib/kube-webshell}
- {name: KWS_ADMIN_USER, value: {{ .Values.adminUser | quote }}}
- {name: KWS_LOG_FORMAT, value: {{ .Values.logFormat | quote }}}
- {name: KWS_SHUTDOWN_TIMEOUT, value: {{ .Values.shutdownTimeout | quote }}}
- {name: KWS_TRUSTED_PROXIES, value: {{ .Values.trustedProxies | quote }}}
- {name: KWS_IMPERSONATE, value: {{ ternary "1" "0" .Values.impersonate | quote }}}
- {name: KWS_METRICS, value: {{ ternary "1" "0" .Values.metrics.open | quote }}}
- {name: KWS_DEBUG_IMAGE, value: {{ .Values.debug.image | quote }}}
- name: KWS_REPLICA_NAME   # unique per pod; a replacement pod reaps a killed one's shells
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
- {name: KWS_REPLICA_LEASE, value: {{ .Values.redis.leaseSeconds | quote }}}
{{- with .Values.clusterAuth }}
- {name: KWS_CLUSTER_AUTH, value: {{ join "," . | quote }}}
{{- end }}
{{- with .Values.rbac.namespaces }}
- {name: KWS_NAMESPACES, value: {{ join "," . | quote }}}   # the picker's names when listing is refused
{{- end }}
{{- if .Values.ingress.tlsSecret }}
- {name: KWS_COOKIE_SECURE, value: "1"}
{{- end }}
{{- with .Values.oidc.groupRoles }}
- {name: KWS_OIDC_GROUP_ROLES, value: {{ join "," . | quote }}}
{{- end }}
{{- with .Values.oidc.adminGroups }}
- {name: KWS_OIDC_ADMIN_GROUPS, value: {{ join "," . | quote }}}
{{- end }}
{{- if not .Values.oidc.localLogin }}
- {name: KWS_LOCAL_LOGIN, value: "0"}
{{- end }}
{{- if include "kws.hasSecret" . }}
- name: KWS_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: secret-key}}
- name: KWS_ADMIN_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: admin-password}}
- name: KWS_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: database-url, optional: true}}
- name: KWS_MESSAGE_QUEUE
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: redis-url, optional: true}}
- name: KWS_METRICS_TOKEN
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: metrics-token, optional: true}}
- name: KWS_OIDC_PROVIDERS
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: oidc-providers, optional: true}}
{{- end }}
{{- end -}}
