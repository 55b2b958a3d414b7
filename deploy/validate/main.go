// Command validate checks deploy/k8s against the Kubernetes API types: every document is decoded
// strictly (unknown or mistyped fields fail) into the typed structs of k8s.io/api, or of the
// small CRD types below (KEDA, Prometheus Operator), then cross-checked (selectors, probe ports,
// references, security settings). Run from the repository root: go run ./deploy/validate
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// KEDA keda.sh/v1alpha1 (the fields this project uses and their documented siblings).
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion             string `json:"apiVersion,omitempty"`
			Kind                   string `json:"kind,omitempty"`
			Name                   string `json:"name"`
			EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
		} `json:"scaleTargetRef"`
		PollingInterval  *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod   *int32 `json:"cooldownPeriod,omitempty"`
		IdleReplicaCount *int32 `json:"idleReplicaCount,omitempty"`
		MinReplicaCount  *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount  *int32 `json:"maxReplicaCount,omitempty"`
		Fallback         *struct {
			FailureThreshold int32 `json:"failureThreshold"`
			Replicas         int32 `json:"replicas"`
		} `json:"fallback,omitempty"`
		Advanced *struct {
			RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
			HorizontalPodAutoscalerConfig *struct {
				Name     string                                         `json:"name,omitempty"`
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
		} `json:"advanced,omitempty"`
		Triggers []struct {
			Type              string            `json:"type"`
			Name              string            `json:"name,omitempty"`
			UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
				Kind string `json:"kind,omitempty"`
			} `json:"authenticationRef,omitempty"`
			MetricType string `json:"metricType,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

type TriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef,omitempty"`
		Env []struct {
			Parameter     string `json:"parameter"`
			Name          string `json:"name"`
			ContainerName string `json:"containerName,omitempty"`
		} `json:"env,omitempty"`
	} `json:"spec"`
}

// Prometheus Operator monitoring.coreos.com/v1 ServiceMonitor (subset).
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel          string               `json:"jobLabel,omitempty"`
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []struct {
			Port          string `json:"port,omitempty"`
			Path          string `json:"path,omitempty"`
			Scheme        string `json:"scheme,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

type Kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
		IncludeTemplates bool              `json:"includeTemplates,omitempty"`
	} `json:"labels,omitempty"`
}

type manifests struct {
	deployments []appsv1.Deployment
	configMaps  map[string]corev1.ConfigMap
	secrets     map[string]corev1.Secret
	services    []corev1.Service
	accounts    map[string]bool
	pdbs        []policyv1.PodDisruptionBudget
	scaled      []ScaledObject
	auths       map[string]TriggerAuthentication
	monitors    []ServiceMonitor
	extraLabels map[string]string
}

var problems []string

func fail(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

func strict(doc []byte, into any, where string) bool {
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		fail("%s: %v", where, err)
		return false
	}
	return true
}

func load(dir string) *manifests {
	m := &manifests{configMaps: map[string]corev1.ConfigMap{}, secrets: map[string]corev1.Secret{},
		accounts: map[string]bool{}, auths: map[string]TriggerAuthentication{}, extraLabels: map[string]string{}}
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		fail("kustomization.yaml: %v", err)
		return m
	}
	var k Kustomization
	if !strict(raw, &k, "kustomization.yaml") {
		return m
	}
	for _, l := range k.Labels {
		for key, v := range l.Pairs {
			m.extraLabels[key] = v
		}
	}
	files := append([]string{}, k.Resources...)
	files = append(files, "secret.example.yaml")
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			fail("%s: %v", f, err)
			continue
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			where := fmt.Sprintf("%s#%d", f, i)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				fail("%s: %v", where, err)
				continue
			}
			switch tm.APIVersion + "/" + tm.Kind {
			case "apps/v1/Deployment":
				var d appsv1.Deployment
				if strict(doc, &d, where) {
					m.deployments = append(m.deployments, d)
				}
			case "v1/ConfigMap":
				var c corev1.ConfigMap
				if strict(doc, &c, where) {
					m.configMaps[c.Name] = c
				}
			case "v1/Secret":
				var s corev1.Secret
				if strict(doc, &s, where) {
					m.secrets[s.Name] = s
				}
			case "v1/Service":
				var s corev1.Service
				if strict(doc, &s, where) {
					m.services = append(m.services, s)
				}
			case "v1/ServiceAccount":
				var s corev1.ServiceAccount
				if strict(doc, &s, where) {
					m.accounts[s.Name] = true
				}
			case "policy/v1/PodDisruptionBudget":
				var p policyv1.PodDisruptionBudget
				if strict(doc, &p, where) {
					m.pdbs = append(m.pdbs, p)
				}
			case "keda.sh/v1alpha1/ScaledObject":
				var s ScaledObject
				if strict(doc, &s, where) {
					m.scaled = append(m.scaled, s)
				}
			case "keda.sh/v1alpha1/TriggerAuthentication":
				var t TriggerAuthentication
				if strict(doc, &t, where) {
					m.auths[t.Name] = t
				}
			case "monitoring.coreos.com/v1/ServiceMonitor":
				var s ServiceMonitor
				if strict(doc, &s, where) {
					m.monitors = append(m.monitors, s)
				}
			default:
				fail("%s: unexpected kind %s/%s", where, tm.APIVersion, tm.Kind)
			}
		}
	}
	return m
}

func stripComments(doc []byte) []byte {
	var out []string
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

func withExtra(base map[string]string, extra map[string]string) labels.Set {
	s := labels.Set{}
	for k, v := range base {
		s[k] = v
	}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func check(m *manifests) {
	if len(m.deployments) != 1 {
		fail("expected one Deployment, found %d", len(m.deployments))
		return
	}
	d := m.deployments[0]
	podLabels := labels.Set(d.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		fail("Deployment %s: selector does not match the pod template labels", d.Name)
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != "" && !m.accounts[pod.ServiceAccountName] {
		fail("Deployment: service account %q is not defined", pod.ServiceAccountName)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		fail("Deployment: pod must set runAsNonRoot")
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 20 {
		fail("Deployment: terminationGracePeriodSeconds must leave the worker its 20 s shutdown")
	}
	for _, c := range pod.Containers {
		ports := map[string]int32{}
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
		for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
			if probe == nil || probe.HTTPGet == nil {
				fail("container %s: %s probe must be an HTTP probe", c.Name, name)
				continue
			}
			if p := probe.HTTPGet.Port; p.StrVal != "" {
				if _, ok := ports[p.StrVal]; !ok {
					fail("container %s: %s probe names port %q that the container does not expose", c.Name, name, p.StrVal)
				}
			}
		}
		if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			fail("container %s: readiness must use /readyz", c.Name)
		}
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			fail("container %s: readOnlyRootFilesystem must be true", c.Name)
		}
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			fail("container %s: allowPrivilegeEscalation must be false", c.Name)
		}
		if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
			fail("container %s: needs a memory limit", c.Name)
		}
		if q, ok := c.Resources.Limits["nvidia.com/gpu"]; !ok || q.IsZero() {
			fail("container %s: needs an nvidia.com/gpu limit", c.Name)
		}
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				if _, ok := m.configMaps[e.ConfigMapRef.Name]; !ok {
					fail("container %s: ConfigMap %q is not defined", c.Name, e.ConfigMapRef.Name)
				}
			}
			if e.SecretRef != nil {
				if _, ok := m.secrets[e.SecretRef.Name]; !ok {
					fail("container %s: Secret %q has no example", c.Name, e.SecretRef.Name)
				}
			}
		}
	}
	for _, p := range m.pdbs {
		s, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || !s.Matches(podLabels) {
			fail("PodDisruptionBudget %s does not select the worker pods", p.Name)
		}
	}
	for _, s := range m.services {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			fail("Service %s does not select the worker pods", s.Name)
		}
	}
	for _, so := range m.scaled {
		if so.Spec.ScaleTargetRef.Name != d.Name {
			fail("ScaledObject %s targets %q, not the Deployment %q", so.Name, so.Spec.ScaleTargetRef.Name, d.Name)
		}
		for _, t := range so.Spec.Triggers {
			if t.AuthenticationRef != nil {
				if _, ok := m.auths[t.AuthenticationRef.Name]; !ok {
					fail("ScaledObject %s: TriggerAuthentication %q is not defined", so.Name, t.AuthenticationRef.Name)
				}
			}
			if t.Type == "kafka" {
				for _, k := range []string{"bootstrapServers", "consumerGroup", "topic", "lagThreshold"} {
					if t.Metadata[k] == "" {
						fail("ScaledObject %s: kafka trigger needs %s", so.Name, k)
					}
				}
			}
		}
	}
	for _, sm := range m.monitors {
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		matched := false
		for _, s := range m.services {
			if err == nil && sel.Matches(withExtra(s.Labels, m.extraLabels)) {
				matched = true
			}
		}
		if !matched {
			fail("ServiceMonitor %s selects no Service", sm.Name)
		}
	}
}

func main() {
	dir := "deploy/k8s"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	m := load(dir)
	check(m)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "deploy/validate:", p)
		}
		os.Exit(1)
	}
	fmt.Printf("deploy/validate: %s ok (%d Deployment, %d ConfigMap, %d Secret, %d Service, %d PDB, %d ScaledObject, %d ServiceMonitor)\n",
		dir, len(m.deployments), len(m.configMaps), len(m.secrets), len(m.services), len(m.pdbs), len(m.scaled), len(m.monitors))
}
