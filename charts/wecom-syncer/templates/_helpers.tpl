{{/* The name of every object: the release name, made to contain the chart's name. */}}
{{- define "wecom-syncer.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wecom-syncer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "wecom-syncer.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Lease the replicas elect their leader on. */}}
{{- define "wecom-syncer.leaseName" -}}
{{- printf "%s-leader" (include "wecom-syncer.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* What selects the operator's pods. Never change it in an upgrade: a Deployment's selector is immutable. */}}
{{- define "wecom-syncer.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "wecom-syncer.labels" -}}
{{ include "wecom-syncer.selectorLabels" . }}
app.kubernetes.io/part-of: wecom-syncer
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels of the objects that belong to the operator but select nothing (RBAC, the ServiceAccount). */}}
{{- define "wecom-syncer.commonLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: wecom-syncer
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "wecom-syncer.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The namespaces the operator watches; empty means every namespace. */}}
{{- define "wecom-syncer.watched" -}}
{{- if .Values.namespaced -}}
{{- list .Release.Namespace | toJson -}}
{{- else -}}
{{- .Values.watchNamespaces | default list | toJson -}}
{{- end -}}
{{- end -}}
