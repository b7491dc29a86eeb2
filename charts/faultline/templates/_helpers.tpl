{{/* Naming and labels shared by every template. */}}

{{/* The chart name, overridable with nameOverride. */}}
{{- define "faultline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of namespaced objects: the release name, prefixed to the chart name unless it already contains it
(release "faultline" gives "faultline", release "t" gives "t-faultline"). Truncated to 63 characters, the
DNS label limit.
*/}}
{{- define "faultline.fullname" -}}
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

{{/* The helm.sh/chart label value. */}}
{{- define "faultline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels every object carries. */}}
{{- define "faultline.labels" -}}
helm.sh/chart: {{ include "faultline.chart" . }}
{{ include "faultline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels that select the operator's pods; they must never change between upgrades. */}}
{{- define "faultline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "faultline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The labels that select the operator's pod. The component label keeps fault and probe pods, which run the
same image, out of the Deployment's and the metrics Service's selection.
*/}}
{{- define "faultline.operatorSelectorLabels" -}}
{{ include "faultline.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "faultline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "faultline.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The full image reference; fault pods and cmd-probe pods run this same image. */}}
{{- define "faultline.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

