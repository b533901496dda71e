resource "google_container_cluster" "testing" {
  name     = var.cluster_name
  project  = var.project_id
  location = var.zone

  # The node pool is managed below so that changing its machine type does not replace the cluster.
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = var.deletion_protection

  # Workflow pods get Google credentials through Workload Identity instead of the seed's
  # downloaded key in the kubeflow-testing-credentials secret.
  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  # Dataplane V2 enforces Kubernetes NetworkPolicy (cluster/argo_ui.tf fences the Argo server with one); without it
  # GKE accepts the policy and ignores it. Setting it on an existing cluster replaces the cluster.
  datapath_provider = "ADVANCED_DATAPATH"

  release_channel {
    channel = "REGULAR"
  }

  # Cloud Logging receives the cluster's Kubernetes events, which the log sink turns into
  # argo-events for the Watcher.
  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS"]
  }

  depends_on = [google_project_service.enabled]
}

resource "google_container_node_pool" "workers" {
  name     = "workers"
  project  = var.project_id
  location = var.zone
  cluster  = google_container_cluster.testing.name

  initial_node_count = var.node_count

  autoscaling {
    min_node_count = var.node_count
    max_node_count = var.node_max_count
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  node_config {
    machine_type    = var.node_machine_type
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]

    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }

  # Nodes that start before their account may write logs and metrics, or pull kfci's images, fail to register or
  # to pull the test-worker image; GKE does not retry node creation for that.
  depends_on = [
    google_project_iam_member.nodes,
    google_artifact_registry_repository_iam_member.nodes_reader,
  ]
}
