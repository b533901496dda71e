# Who may do what. Every account has only the roles its job needs; the only account that can
# delete Google Cloud resources is the Janitor's (checked by tests/Kfci.Tests/Infra).

# --- Test cluster nodes -------------------------------------------------------------------------

resource "google_service_account" "nodes" {
  account_id   = "kfci-nodes"
  project      = var.project_id
  display_name = "kfci test cluster nodes"

  depends_on = [google_project_service.enabled]
}

# GKE's documented minimum for a node account ("Configure GKE node service accounts"): logs, metrics and
# the metadata GKE's system components need. Pulling kfci's own images is granted on its repository
# only (build.tf); workloads get Google credentials through Workload Identity, never from the node.
resource "google_project_iam_member" "nodes" {
  project = var.project_id
  role    = "roles/container.defaultNodeServiceAccount"
  member  = "serviceAccount:${google_service_account.nodes.email}"
}

# --- Test workflows -----------------------------------------------------------------------------

# Two identities, because a pull request's code runs in its workflow's pods. Pull-request workflows
# run as the restricted one: it may write Argo's archived logs (storage.tf) and nothing else in the
# project. Postsubmit and periodic jobs of the repositories in var.trusted_repositories run as the
# trusted one, which holds exactly the roles the seed granted its test-workflow account (kubeflow/testing
# README, "Setting up Kubeflow Test Infrastructure"): their end-to-end tests create and delete clusters
# and VMs. The Trigger picks between them (KFCI_WORKFLOW_POLICY, workflow_policy.tf) and a workflow
# that names another account is refused.
locals {
  workflow_kubernetes_accounts = {
    restricted = "kfci-workflow"
    trusted    = "kfci-workflow-trusted"
  }
}

resource "google_service_account" "pr_workflow" {
  account_id   = "kfci-pr-workflow"
  project      = var.project_id
  display_name = "kfci pull-request workflows (restricted)"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "trusted_workflow" {
  account_id   = "kfci-trusted-workflow"
  project      = var.project_id
  display_name = "kfci trusted postsubmit/periodic workflows (the seed's deployer roles)"

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "trusted_workflow" {
  for_each = toset([
    "roles/cloudbuild.builds.editor",
    "roles/compute.instanceAdmin.v1",
    "roles/container.admin",
    "roles/logging.viewer",
    "roles/viewer",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.trusted_workflow.email}"
}

# The seed's storage.admin, but not on kfci's own buckets: a test must not rewrite or delete published results, Argo's
# archived logs or the build sources. Cloud Storage evaluates resource.name as projects/_/buckets/B (and
# .../objects/O for objects) in IAM conditions.
locals {
  kfci_buckets = [var.results_bucket_name, google_storage_bucket.argo_artifacts.name, google_storage_bucket.build_source.name]
}

resource "google_project_iam_member" "trusted_workflow_storage" {
  project = var.project_id
  role    = "roles/storage.admin"
  member  = "serviceAccount:${google_service_account.trusted_workflow.email}"

  condition {
    title       = "not-kfci-buckets"
    description = "Every bucket of the project except kfci's results, Argo artifacts and build sources"
    expression  = join(" && ", [for b in local.kfci_buckets : "resource.name != \"projects/_/buckets/${b}\" && !resource.name.startsWith(\"projects/_/buckets/${b}/\")"])
  }
}

# The account test VMs run as: no roles. Tests that create VMs name it; the trusted identity may act as it and as no
# other account (actAs on the Compute Engine default account, often an Editor, would be a path to Editor; with
# cloudbuild.builds.editor, so would actAs on Cloud Build's).
resource "google_service_account" "test_vm" {
  account_id   = "kfci-test-vm"
  project      = var.project_id
  display_name = "kfci test VMs (no roles)"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account_iam_member" "trusted_workflow_test_vm" {
  service_account_id = google_service_account.test_vm.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.trusted_workflow.email}"
}

# Workload Identity: the Kubernetes accounts of cluster/workflow_identities.tf act as these Google
# accounts, which replaces the seed's downloaded key. The pool exists once the cluster does.
resource "google_service_account_iam_member" "pr_workflow_workload_identity" {
  service_account_id = google_service_account.pr_workflow.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.workflow_namespace}/${local.workflow_kubernetes_accounts.restricted}]"

  depends_on = [google_container_cluster.testing]
}

resource "google_service_account_iam_member" "trusted_workflow_workload_identity" {
  service_account_id = google_service_account.trusted_workflow.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.workflow_namespace}/${local.workflow_kubernetes_accounts.trusted}]"

  depends_on = [google_container_cluster.testing]
}

# --- Functions ----------------------------------------------------------------------------------

# Trigger: reads the GitHub token (secrets.tf), creates workflows (cluster RBAC below), writes runs,
# publishes run-submitted, and run-completed for a run with nothing to submit (pubsub.tf).
resource "google_service_account" "trigger" {
  account_id   = "kfci-trigger"
  project      = var.project_id
  display_name = "kfci Trigger function"

  depends_on = [google_project_service.enabled]
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

# Watcher: receives Argo's workflow events from Pub/Sub (argo-events, logging.tf) and its ticks; reads and
# patches workflows in the cluster (no Kubernetes events), writes runs, publishes run-completed.
resource "google_service_account" "watcher" {
  account_id   = "kfci-watcher"
  project      = var.project_id
  display_name = "kfci Watcher function"

  depends_on = [google_project_service.enabled]
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

  depends_on = [google_project_service.enabled]
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
# networks and firewall rules, load balancers, GKE clusters, Deployment Manager deployments and
# service accounts. It deletes accounts (iam.serviceAccountDeleter) but cannot act as any: deleting a VM,
# a cluster or a deployment needs no actAs (only creating something that runs as an account does), and a
# serviceAccountUser grant, project-wide or on the workflow accounts, would let it run code as the
# trusted workflow identity.
resource "google_service_account" "janitor" {
  account_id   = "kfci-janitor"
  project      = var.project_id
  display_name = "kfci Janitor function"

  depends_on = [google_project_service.enabled]
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
    "roles/iam.serviceAccountDeleter",
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

  depends_on = [google_project_service.enabled]
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

  depends_on = [google_project_service.enabled]
}

# The build writes its logs to Cloud Logging (cloudbuild.yaml: CLOUD_LOGGING_ONLY) and pushes images to kfci's
# repository only (build.tf), not to every repository of the project.
resource "google_project_iam_member" "builder" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.builder.email}"
}
