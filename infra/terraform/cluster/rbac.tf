# Inside the test cluster the functions act as their Google accounts (GKE names a Google identity as
# the Kubernetes user of the same email). Each Role holds exactly the calls the function's code
# makes (tests/Kfci.Tests authorize the Kubernetes fake's requests against these rules):
#   Trigger  creates workflows, reads one back after a conflict, lists a run's workflows and
#            patches spec.shutdown to abort them (RunStarter, RunAborter);
#   Watcher  gets and lists workflows and patches spec.shutdown past a run's deadline (Reconciler);
#   Uploader gets a workflow, its pods and their logs, and lists a failed step's events (ResultsUploader);
#   Janitor  lists and deletes workflows here, and namespaces cluster-wide (KubernetesResources).
locals {
  function_roles = {
    trigger = [
      { api_groups = ["argoproj.io"], resources = ["workflows"], verbs = ["create", "get", "list", "patch"] },
    ]
    watcher = [
      { api_groups = ["argoproj.io"], resources = ["workflows"], verbs = ["get", "list", "patch"] },
    ]
    uploader = [
      { api_groups = ["argoproj.io"], resources = ["workflows"], verbs = ["get"] },
      { api_groups = [""], resources = ["pods", "pods/log"], verbs = ["get"] },
      { api_groups = [""], resources = ["events"], verbs = ["list"] },
    ]
    janitor = [
      { api_groups = ["argoproj.io"], resources = ["workflows"], verbs = ["delete", "list"] },
    ]
  }

  # Namespaces are not namespaced: only a ClusterRole can grant them.
  function_cluster_roles = {
    janitor = [
      { api_groups = [""], resources = ["namespaces"], verbs = ["delete", "list"] },
    ]
  }

  # The Argo server (only deployed with the UI) reads; it cannot create, change or delete
  # anything, nor read secrets.
  argo_server_rules = [
    { api_groups = ["argoproj.io"], resources = ["workflows", "workflowtemplates", "cronworkflows", "workfloweventbindings"], verbs = ["get", "list", "watch"] },
    { api_groups = [""], resources = ["pods", "pods/log", "events"], verbs = ["get", "list", "watch"] },
  ]

  # In its own namespace the server reads the controller's configuration (its --configmap argument); the chart's
  # own Role, which rbac.create = false leaves out, grants configmaps for this.
  argo_server_own_namespace_rules = [
    { api_groups = [""], resources = ["configmaps"], verbs = ["get", "list", "watch"] },
  ]
}

resource "kubernetes_role" "function" {
  for_each = local.function_roles

  metadata {
    name      = "kfci-${each.key}"
    namespace = kubernetes_namespace.workflows.metadata[0].name
  }

  dynamic "rule" {
    for_each = each.value

    content {
      api_groups = rule.value.api_groups
      resources  = rule.value.resources
      verbs      = rule.value.verbs
    }
  }
}

resource "kubernetes_role_binding" "function" {
  for_each = local.function_roles

  metadata {
    name      = "kfci-${each.key}"
    namespace = kubernetes_namespace.workflows.metadata[0].name
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role.function[each.key].metadata[0].name
  }

  subject {
    api_group = "rbac.authorization.k8s.io"
    kind      = "User"
    name      = var.function_accounts[each.key]
  }
}

resource "kubernetes_cluster_role" "function" {
  for_each = local.function_cluster_roles

  metadata {
    name = "kfci-${each.key}"
  }

  dynamic "rule" {
    for_each = each.value

    content {
      api_groups = rule.value.api_groups
      resources  = rule.value.resources
      verbs      = rule.value.verbs
    }
  }
}

resource "kubernetes_cluster_role_binding" "function" {
  for_each = local.function_cluster_roles

  metadata {
    name = "kfci-${each.key}"
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role.function[each.key].metadata[0].name
  }

  subject {
    api_group = "rbac.authorization.k8s.io"
    kind      = "User"
    name      = var.function_accounts[each.key]
  }
}

resource "kubernetes_role" "argo_server" {
  count = var.argo_ui.expose ? 1 : 0

  metadata {
    name      = "kfci-argo-server-read-only"
    namespace = kubernetes_namespace.workflows.metadata[0].name
  }

  dynamic "rule" {
    for_each = local.argo_server_rules

    content {
      api_groups = rule.value.api_groups
      resources  = rule.value.resources
      verbs      = rule.value.verbs
    }
  }
}

resource "kubernetes_role_binding" "argo_server" {
  count = var.argo_ui.expose ? 1 : 0

  metadata {
    name      = "kfci-argo-server-read-only"
    namespace = kubernetes_namespace.workflows.metadata[0].name
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role.argo_server[0].metadata[0].name
  }

  subject {
    kind      = "ServiceAccount"
    name      = local.argo_server_account
    namespace = kubernetes_namespace.argo.metadata[0].name
  }
}

resource "kubernetes_role" "argo_server_configuration" {
  count = var.argo_ui.expose ? 1 : 0

  metadata {
    name      = "kfci-argo-server-configuration"
    namespace = kubernetes_namespace.argo.metadata[0].name
  }

  dynamic "rule" {
    for_each = local.argo_server_own_namespace_rules

    content {
      api_groups = rule.value.api_groups
      resources  = rule.value.resources
      verbs      = rule.value.verbs
    }
  }
}

resource "kubernetes_role_binding" "argo_server_configuration" {
  count = var.argo_ui.expose ? 1 : 0

  metadata {
    name      = "kfci-argo-server-configuration"
    namespace = kubernetes_namespace.argo.metadata[0].name
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role.argo_server_configuration[0].metadata[0].name
  }

  subject {
    kind      = "ServiceAccount"
    name      = local.argo_server_account
    namespace = kubernetes_namespace.argo.metadata[0].name
  }
}
