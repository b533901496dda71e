# The shared volume every workflow step mounts at /mnt/test-data-volume (the seed's gcfs
# PersistentVolume and nfs-external claim), and the debug worker people use to inspect it.
resource "google_filestore_instance" "nfs" {
  name     = "kfci-nfs"
  project  = var.project_id
  location = var.zone
  tier     = "BASIC_HDD"

  file_shares {
    name        = "kubeflow"
    capacity_gb = var.nfs_capacity_gb
  }

  networks {
    network = "default"
    modes   = ["MODE_IPV4"]
  }

  depends_on = [google_project_service.enabled]
}

resource "kubernetes_persistent_volume" "nfs" {
  metadata {
    name = "gcfs"
  }

  spec {
    capacity = {
      storage = "${var.nfs_capacity_gb}Gi"
    }
    access_modes                     = ["ReadWriteMany"]
    persistent_volume_reclaim_policy = "Retain"
    storage_class_name               = ""

    persistent_volume_source {
      nfs {
        server = google_filestore_instance.nfs.networks[0].ip_addresses[0]
        path   = "/kubeflow"
      }
    }
  }
}

resource "kubernetes_persistent_volume_claim" "nfs_external" {
  metadata {
    name      = "nfs-external"
    namespace = kubernetes_namespace.test_infra.metadata[0].name
  }

  spec {
    access_modes       = ["ReadWriteMany"]
    storage_class_name = ""
    volume_name        = kubernetes_persistent_volume.nfs.metadata[0].name

    resources {
      requests = {
        storage = "${var.nfs_capacity_gb}Gi"
      }
    }
  }
}

resource "kubernetes_service" "debug_worker" {
  metadata {
    name      = "debug-worker"
    namespace = kubernetes_namespace.test_infra.metadata[0].name
  }

  spec {
    cluster_ip = "None"
    selector = {
      app = "debug-worker"
    }
  }
}

# `kubectl exec -it -n kubeflow-test-infra debug-worker-0 -- /bin/bash` lands next to the files a
# failed workflow left on the volume, with the same Google identity the workflows have.
resource "kubernetes_stateful_set" "debug_worker" {
  metadata {
    name      = "debug-worker"
    namespace = kubernetes_namespace.test_infra.metadata[0].name
  }

  spec {
    replicas     = 1
    service_name = kubernetes_service.debug_worker.metadata[0].name

    selector {
      match_labels = {
        app = "debug-worker"
      }
    }

    template {
      metadata {
        labels = {
          app = "debug-worker"
        }
      }

      spec {
        service_account_name = local.argo_workflow_service_account

        container {
          name    = "debug-worker"
          image   = var.test_worker_image
          command = ["tail", "-f", "/dev/null"]

          resources {
            requests = {
              cpu    = "1"
              memory = "1Gi"
            }
          }

          volume_mount {
            name       = "nfs"
            mount_path = "/mnt/test-data-volume"
          }
        }

        volume {
          name = "nfs"

          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim.nfs_external.metadata[0].name
          }
        }
      }
    }
  }

  depends_on = [helm_release.argo_workflows]
}
