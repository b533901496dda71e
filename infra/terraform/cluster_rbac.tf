# Inside the test cluster the functions act as their Google accounts (GKE maps a Google identity to
# a Kubernetes user of the same email), limited to the test namespace by these Roles.
locals {
  cluster_roles = {
    trigger = {
      account = google_service_account.trigger.email
      rules = [
        { api_groups = ["argoproj.io"], resources = ["workflows"], verbs = ["create", "get", "list"] },
      ]
    }
    watcher = {
      account = google_service_account.watcher.email
      rules = [
        { api_groups = ["argoproj.io"], resources = ["workflows"], verbs = ["get", "list", "watch"] },
        { api_groups = [""], resources = ["events", "pods"], verbs = ["get", "list", "watch"] },
      ]
    }
    uploader = {
      account = google_service_account.uploader.email
      rules = [
        { api_groups = ["argoproj.io"], resources = ["workflows"], verbs = ["get", "list"] },
        { api_groups = [""], resources = ["pods", "pods/log"], verbs = ["get", "list"] },
      ]
    }
    janitor = {
      account = google_service_account.janitor.email
      rules = [
        { api_groups = ["argoproj.io"], resources = ["workflows"], verbs = ["delete", "get", "list"] },
        { api_groups = [""], resources = ["pods"], verbs = ["delete", "get", "list"] },
      ]
    }
  }
}

resource "kubernetes_role" "function" {
  for_each = local.cluster_roles

  metadata {
    name      = "kfci-${each.key}"
    namespace = kubernetes_namespace.test_infra.metadata[0].name
  }

  dynamic "rule" {
    for_each = each.value.rules

    content {
      api_groups = rule.value.api_groups
      resources  = rule.value.resources
      verbs      = rule.value.verbs
    }
  }
}

resource "kubernetes_role_binding" "function" {
  for_each = local.cluster_roles

  metadata {
    name      = "kfci-${each.key}"
    namespace = kubernetes_namespace.test_infra.metadata[0].name
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role.function[each.key].metadata[0].name
  }

  subject {
    api_group = "rbac.authorization.k8s.io"
    kind      = "User"
    name      = each.value.account
  }
}
