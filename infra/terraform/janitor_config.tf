# The Janitor's configuration, passed explicitly (it refuses to run without one): this project, its
# zone and region, the test cluster and its namespaces, and what it must never delete. Cloud Run
# mounts it as a file (KFCI_JANITOR_CONFIG) from Secret Manager; it holds no secret.
locals {
  janitor_config_directory = "/etc/kfci/janitor"
  janitor_config_file      = "config.yaml"

  janitor_config = {
    dryRun             = var.janitor_dry_run
    projects           = [var.project_id]
    zones              = [var.zone]
    regions            = [var.region]
    testCluster        = var.cluster_name
    workflowNamespaces = [var.workflow_namespace]
    argoNamespaces     = [var.argo_namespace]
    # kfci's own accounts and the cluster's system and kfci namespaces come first; the operator's list follows.
    protect = concat(
      ["^kfci-", "^${var.cluster_name}$", "^kube-", "^gke-", "^default$", "^${var.workflow_namespace}$", "^${var.argo_namespace}$"],
      var.janitor_protect,
    )
  }

  function_config_files = {
    janitor = {
      secret    = google_secret_manager_secret.janitor_config.secret_id
      directory = local.janitor_config_directory
      file      = local.janitor_config_file
    }
  }
}

resource "google_secret_manager_secret" "janitor_config" {
  secret_id = "kfci-janitor-config"
  project   = var.project_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "janitor_config" {
  secret      = google_secret_manager_secret.janitor_config.id
  secret_data = yamlencode(local.janitor_config)
}

resource "google_secret_manager_secret_iam_member" "janitor_config" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.janitor_config.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.janitor.email}"
}
