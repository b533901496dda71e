# The four functions, each a .NET 10 ASP.NET Core app from functions/<Name> listening on $PORT.
#
# They run as Cloud Run services from container images rather than as Cloud Functions (2nd gen):
# the Cloud Functions .NET runtimes lag behind .NET releases and build with buildpacks from the
# Functions Framework package, which kfci does not use; a container runs any .NET version, starts
# the same way locally and in the cloud, and is what gen2 functions run on anyway. Cloud Build
# builds the images from the repository (cloudbuild.yaml, build.tf); `image_tag` selects the build.

locals {
  image_repository = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.functions.repository_id}"

  # Environment every function gets (names from shared/Configuration/KfciEnvironment.cs).
  function_common_env = {
    KFCI_PROJECT              = var.project_id
    KFCI_FIRESTORE_DATABASE   = google_firestore_database.kfci.name
    KFCI_PUSH_SERVICE_ACCOUNT = google_service_account.pubsub_invoker.email
  }

  # Each function's push audience is its own deterministic Cloud Run URL (https://SERVICE-PROJECT_NUMBER.REGION.run.app):
  # unique to the deployment, accepted by Cloud Run's invoker check, and known before the service exists.
  run_url_suffix = "${data.google_project.current.number}.${var.region}.run.app"

  # Workflow links in runs and in started.json/finished.json metadata; none when the UI is not exposed.
  # https works: the UI's Ingress serves TLS with a Google-managed certificate for argo_ui_host
  # (cluster/argo.tf) and refuses plain http.
  argo_ui_url = var.expose_argo_ui ? "https://${var.argo_ui_host}" : ""

  # The test cluster's API server, for the functions that talk to Kubernetes.
  cluster_env = {
    KFCI_WORKFLOW_NAMESPACE     = var.workflow_namespace
    KFCI_CLUSTER_ENDPOINT       = "https://${google_container_cluster.testing.endpoint}"
    KFCI_CLUSTER_CA_CERTIFICATE = google_container_cluster.testing.master_auth[0].cluster_ca_certificate
  }

  # What each function consumes (one push subscription per topic) and publishes (publisher grant),
  # and its own environment on top of function_common_env (and cluster_env where uses_cluster).
  # Keys of `consumes` are topic names.
  functions = {
    trigger = {
      directory       = "functions/Trigger"
      service_account = google_service_account.trigger.email
      uses_cluster    = true
      consumes = {
        prow-events = google_pubsub_topic.prow_events
      }
      # run.completed too: a run with nothing to submit goes straight to Completed, so the Uploader writes its result.
      publishes = [google_pubsub_topic.run_submitted, google_pubsub_topic.run_completed]
      env = {
        FUNCTION_TARGET           = "Trigger"
        KFCI_PUSH_AUDIENCE        = "https://kfci-trigger-${local.run_url_suffix}"
        KFCI_RESULTS_BUCKET       = local.results_bucket
        KFCI_TOPIC_RUN_SUBMITTED  = google_pubsub_topic.run_submitted.name
        KFCI_TOPIC_RUN_COMPLETED  = google_pubsub_topic.run_completed.name
        KFCI_ARGO_UI_URL          = local.argo_ui_url
        KFCI_RUN_DEADLINE_MINUTES = tostring(var.run_deadline_minutes)
        KFCI_PROW_JOBS            = var.prow_job_config
        KFCI_WORKFLOW_POLICY      = jsonencode(local.workflow_policy)
        # The workflows' step_image: the test worker cloudbuild.yaml builds (the nodes may pull from kfci's repository).
        KFCI_STEP_IMAGE = "${local.image_repository}/test-worker:${var.image_tag}"
      }
      secret_env = {
        KFCI_GITHUB_TOKEN = google_secret_manager_secret.github_token.secret_id
      }
    }
    watcher = {
      directory       = "functions/Watcher"
      service_account = google_service_account.watcher.email
      uses_cluster    = true
      consumes = {
        argo-events   = google_pubsub_topic.argo_events
        watcher-ticks = google_pubsub_topic.watcher_ticks
      }
      publishes = [google_pubsub_topic.run_completed]
      env = {
        FUNCTION_TARGET           = "Watcher"
        KFCI_PUSH_AUDIENCE        = "https://kfci-watcher-${local.run_url_suffix}"
        KFCI_TOPIC_RUN_COMPLETED  = google_pubsub_topic.run_completed.name
        KFCI_RUN_DEADLINE_MINUTES = tostring(var.run_deadline_minutes)
      }
      secret_env = {}
    }
    uploader = {
      directory       = "functions/Uploader"
      service_account = google_service_account.uploader.email
      uses_cluster    = true
      consumes = {
        run-submitted = google_pubsub_topic.run_submitted
        run-completed = google_pubsub_topic.run_completed
      }
      publishes = [google_pubsub_topic.run_finished]
      env = {
        FUNCTION_TARGET         = "Uploader"
        KFCI_PUSH_AUDIENCE      = "https://kfci-uploader-${local.run_url_suffix}"
        KFCI_RESULTS_BUCKET     = local.results_bucket
        KFCI_TOPIC_RUN_FINISHED = google_pubsub_topic.run_finished.name
        KFCI_ARGO_UI_URL        = local.argo_ui_url
        KFCI_PATH_STRATEGY      = var.results_path_strategy
        KFCI_DEFAULT_ORG        = var.results_default_org
        KFCI_DEFAULT_REPO       = var.results_default_repo
        # The workflows' NFS share, mounted read-only below: each workflow's artifacts_dir is uploaded from it.
        KFCI_NFS_ROOT = local.uploader_nfs_mount
        # The link of kfci-owned pull-request runs' GitHub commit statuses (Spyglass or Gubernator).
        KFCI_STATUS_URL_TEMPLATE = var.status_url_template
      }
      # The same token as the Trigger's; commit statuses need it to allow writing them (repo:status).
      secret_env = {
        KFCI_GITHUB_TOKEN = google_secret_manager_secret.github_token.secret_id
      }
    }
    janitor = {
      directory       = "functions/Janitor"
      service_account = google_service_account.janitor.email
      uses_cluster    = true
      consumes = {
        janitor-ticks = google_pubsub_topic.janitor_ticks
      }
      publishes = []
      env = {
        FUNCTION_TARGET     = "Janitor"
        KFCI_PUSH_AUDIENCE  = "https://kfci-janitor-${local.run_url_suffix}"
        KFCI_JANITOR_CONFIG = "${local.janitor_config_directory}/${local.janitor_config_file}"
      }
      secret_env = {}
    }
  }
}

# Where the Uploader sees the Filestore share the workflows write their artifacts_dir to (nfs.tf): the same path the
# workflow pods mount it at. Only the Uploader mounts it, read-only, over Direct VPC egress (NFS needs gen2).
locals {
  uploader_nfs_mount = "/mnt/test-data-volume"
}

resource "google_cloud_run_v2_service" "function" {
  for_each = local.functions

  name                = "kfci-${each.key}"
  project             = var.project_id
  location            = var.region
  ingress             = var.function_ingress
  deletion_protection = false

  template {
    service_account                  = each.value.service_account
    timeout                          = "${var.ack_deadline_seconds}s"
    max_instance_request_concurrency = 40
    execution_environment            = each.key == "uploader" ? "EXECUTION_ENVIRONMENT_GEN2" : null

    dynamic "vpc_access" {
      for_each = each.key == "uploader" ? [1] : []

      content {
        egress = "PRIVATE_RANGES_ONLY"

        network_interfaces {
          network    = "default"
          subnetwork = "default"
        }
      }
    }

    dynamic "volumes" {
      for_each = each.key == "uploader" ? [1] : []

      content {
        name = "nfs"

        nfs {
          server    = google_filestore_instance.nfs.networks[0].ip_addresses[0]
          path      = "/kubeflow"
          read_only = true
        }
      }
    }

    scaling {
      min_instance_count = var.function_min_instances
      max_instance_count = var.function_max_instances
    }

    # A function's configuration file (the Janitor's rules), mounted read-only from Secret Manager.
    dynamic "volumes" {
      for_each = contains(keys(local.function_config_files), each.key) ? [local.function_config_files[each.key]] : []

      content {
        name = "config"

        secret {
          secret = volumes.value.secret

          items {
            version = "latest"
            path    = volumes.value.file
          }
        }
      }
    }

    containers {
      image = "${local.image_repository}/${each.key}:${var.image_tag}"

      # Cloud Run sets PORT itself (8080); the host listens on it.
      ports {
        container_port = 8080
      }

      dynamic "volume_mounts" {
        for_each = each.key == "uploader" ? [1] : []

        content {
          name       = "nfs"
          mount_path = local.uploader_nfs_mount
        }
      }

      resources {
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
        cpu_idle = true
        # More CPU while an instance starts: .NET's start-up is CPU-bound (JIT), and a cold start delays a push.
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = merge(local.function_common_env, each.value.uses_cluster ? local.cluster_env : {}, each.value.env)

        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "volume_mounts" {
        for_each = contains(keys(local.function_config_files), each.key) ? [local.function_config_files[each.key]] : []

        content {
          name       = "config"
          mount_path = volume_mounts.value.directory
        }
      }

      dynamic "env" {
        for_each = each.value.secret_env

        content {
          name = env.key

          value_source {
            secret_key_ref {
              secret  = env.value
              version = "latest"
            }
          }
        }
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_secret_manager_secret_version.janitor_config,
    time_sleep.secret_grants,
  ]
}

# IAM is eventually consistent: a revision created right after its secretAccessor grant can fail to read the secret
# and never become ready. Wait for the grants to propagate (Google documents changes usually applying within about
# a minute, up to seven) before any service is created.
resource "time_sleep" "secret_grants" {
  create_duration = "90s"

  triggers = {
    trigger  = google_secret_manager_secret_iam_member.trigger_github_token.etag
    uploader = google_secret_manager_secret_iam_member.uploader_github_token.etag
    janitor  = google_secret_manager_secret_iam_member.janitor_config.etag
  }
}

# The Uploader sets commit statuses of kfci-owned pull-request runs with the GitHub token.
resource "google_secret_manager_secret_iam_member" "uploader_github_token" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.github_token.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.uploader.email}"
}

# Only Pub/Sub's push identity may invoke the functions: no allUsers, no other caller.
resource "google_cloud_run_v2_service_iam_member" "pubsub_invoker" {
  for_each = google_cloud_run_v2_service.function

  project  = var.project_id
  location = each.value.location
  name     = each.value.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}
