# Workflows and Argo itself live apart: a workflow pod shares no namespace (and so no secrets,
# service accounts or Roles) with the controller and the server that act on every workflow.

# Pod Security Admission refuses what no test needs at the level set (baseline: no privileged
# containers, host namespaces or hostPath) and warns and audits at restricted.
resource "kubernetes_namespace" "workflows" {
  metadata {
    name = var.workflow_namespace

    labels = {
      "pod-security.kubernetes.io/enforce" = var.workflow_pod_security
      "pod-security.kubernetes.io/warn"    = "restricted"
      "pod-security.kubernetes.io/audit"   = "restricted"
    }
  }
}

resource "kubernetes_namespace" "argo" {
  metadata {
    name = var.argo_namespace

    labels = {
      "pod-security.kubernetes.io/enforce" = "baseline"
      "pod-security.kubernetes.io/warn"    = "restricted"
      "pod-security.kubernetes.io/audit"   = "restricted"
    }
  }
}
