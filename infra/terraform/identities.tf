# Who may do what. Every account has only the roles its job needs; the only account that can
# delete Google Cloud resources is the Janitor's (checked by tests/Kfci.Tests/Infra).

# --- Test cluster nodes -------------------------------------------------------------------------

resource "google_service_account" "nodes" {
  account_id   = "kfci-nodes"
  project      = var.project_id
  display_name = "kfci test cluster nodes"
}

resource "google_project_iam_member" "nodes" {
  for_each = toset([
    "roles/artifactregistry.reader",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.nodes.email}"
}

# --- Test workflows -----------------------------------------------------------------------------

# Exactly the roles the seed granted its test-workflow account (kubeflow/testing README, "Setting up
# Kubeflow Test Infrastructure"): the end-to-end tests create and delete clusters and VMs.
resource "google_service_account" "test_workflow" {
  account_id   = "kfci-test-workflow"
  project      = var.project_id
  display_name = "kfci test workflows (Argo pods)"
}

resource "google_project_iam_member" "test_workflow" {
  for_each = toset([
    "roles/cloudbuild.builds.editor",
    "roles/compute.instanceAdmin.v1",
    "roles/container.admin",
    "roles/logging.viewer",
    "roles/storage.admin",
    "roles/viewer",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.test_workflow.email}"
}

# Creating VMs that run as the Compute Engine default account needs actAs on it, and only on it.
resource "google_service_account_iam_member" "test_workflow_compute_default" {
  service_account_id = "projects/${var.project_id}/serviceAccounts/${data.google_project.current.number}-compute@developer.gserviceaccount.com"
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.test_workflow.email}"
}

# Workflow pods run as the Kubernetes account argo-workflow; Workload Identity lets them act as the
# Google account above, which replaces the seed's downloaded key.
resource "google_service_account_iam_member" "test_workflow_workload_identity" {
  service_account_id = google_service_account.test_workflow.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.workflow_namespace}/${local.argo_workflow_service_account}]"

  depends_on = [google_container_cluster.testing]
}

# --- Functions ----------------------------------------------------------------------------------

# Trigger: reads the GitHub token (secrets.tf), creates workflows (cluster RBAC below), writes runs,
# publishes run-submitted, and run-completed for a run with nothing to submit (pubsub.tf).
resource "google_service_account" "trigger" {
  account_id   = "kfci-trigger"
  project      = var.project_id
  display_name = "kfci Trigger function"
}

resource "google_project_iam_member" "trigger" {
  for_each = toset([
    "roles/container.clusterViewer",
    "roles/datastore.user",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.trigger.email}"
}

# Watcher: reads workflows and their events, writes runs, publishes run-completed.
resource "google_service_account" "watcher" {
  account_id   = "kfci-watcher"
  project      = var.project_id
  display_name = "kfci Watcher function"
}

resource "google_project_iam_member" "watcher" {
  for_each = toset([
    "roles/container.clusterViewer",
    "roles/datastore.user",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.watcher.email}"
}

# Uploader: reads workflows and pod logs, writes the results bucket (storage.tf), writes runs,
# publishes run-finished.
resource "google_service_account" "uploader" {
  account_id   = "kfci-uploader"
  project      = var.project_id
  display_name = "kfci Uploader function"
}

resource "google_project_iam_member" "uploader" {
  for_each = toset([
    "roles/container.clusterViewer",
    "roles/datastore.user",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.uploader.email}"
}

# Janitor: the one account that deletes what tests leaked: VMs and instance groups, disks,
# networks and firewall rules, load balancers, GKE clusters and Deployment Manager deployments.
resource "google_service_account" "janitor" {
  account_id   = "kfci-janitor"
  project      = var.project_id
  display_name = "kfci Janitor function"
}

resource "google_project_iam_member" "janitor" {
  for_each = toset([
    "roles/compute.instanceAdmin.v1",
    "roles/compute.loadBalancerAdmin",
    "roles/compute.networkAdmin",
    "roles/compute.securityAdmin",
    "roles/compute.storageAdmin",
    "roles/container.clusterAdmin",
    "roles/datastore.user",
    "roles/deploymentmanager.editor",
    "roles/iam.serviceAccountUser",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.janitor.email}"
}

# --- Pub/Sub push ---------------------------------------------------------------------------------

# Pub/Sub signs every push request with an OIDC token for this account; it is the only principal
# allowed to invoke the functions.
resource "google_service_account" "pubsub_invoker" {
  account_id   = "kfci-pubsub-invoker"
  project      = var.project_id
  display_name = "kfci Pub/Sub push invoker"
}

resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  service_account_id = google_service_account.pubsub_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

# --- Image builds -------------------------------------------------------------------------------

resource "google_service_account" "builder" {
  account_id   = "kfci-builder"
  project      = var.project_id
  display_name = "kfci Cloud Build (function images)"
}

resource "google_project_iam_member" "builder" {
  for_each = toset([
    "roles/artifactregistry.writer",
    "roles/logging.logWriter",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.builder.email}"
}
