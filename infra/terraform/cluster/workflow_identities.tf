# The two identities workflow pods run as. Pull-request workflows get the restricted one (the
# Argo controller's default, and the Trigger's policy); postsubmit and periodic jobs of the
# allow-listed repositories get the trusted one, which Workload Identity maps to the Google
# account holding the seed's deployer roles.
resource "kubernetes_service_account" "workflow" {
  for_each = var.workflow_accounts

  metadata {
    name      = each.value.kubernetes
    namespace = kubernetes_namespace.workflows.metadata[0].name

    annotations = {
      "iam.gke.io/gcp-service-account" = each.value.google
    }
  }
}

# Exactly what Argo's executor needs (argo-workflows docs, "Workflow RBAC", v3.4 and later): it
# reports each step's outputs as a WorkflowTaskResult. Nothing else: a step cannot read secrets,
# create pods or touch other workflows through the Kubernetes API.
resource "kubernetes_role" "workflow_executor" {
  metadata {
    name      = "kfci-workflow-executor"
    namespace = kubernetes_namespace.workflows.metadata[0].name
  }

  rule {
    api_groups = ["argoproj.io"]
    resources  = ["workflowtaskresults"]
    verbs      = ["create", "patch"]
  }
}

resource "kubernetes_role_binding" "workflow_executor" {
  metadata {
    name      = "kfci-workflow-executor"
    namespace = kubernetes_namespace.workflows.metadata[0].name
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role.workflow_executor.metadata[0].name
  }

  dynamic "subject" {
    for_each = kubernetes_service_account.workflow

    content {
      kind      = "ServiceAccount"
      name      = subject.value.metadata[0].name
      namespace = subject.value.metadata[0].namespace
    }
  }
}
