# The shared volume every workflow step mounts at /mnt/test-data-volume (the seed's gcfs
# PersistentVolume and nfs-external claim) on the first module's Filestore instance, and the debug
# worker people use to inspect it.

# One explicit class on both sides: the Kubernetes provider drops storage_class_name = "", and a claim
# without a class gets GKE's default class, which provisions a new disk instead of binding to this
# volume (wait_until_bound then times out). No StorageClass object of this name exists, so nothing
# provisions for it; the claim can only bind to the volume below.
locals {
  nfs_storage_class = "kfci-filestore"
}

data "google_filestore_instance" "nfs" {
  name     = var.nfs_instance
  location = var.zone
  project  = var.project_id
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
    storage_class_name               = local.nfs_storage_class

    persistent_volume_source {
      nfs {
        server = data.google_filestore_instance.nfs.networks[0].ip_addresses[0]
        path   = "/kubeflow"
      }
    }
  }
}

resource "kubernetes_persistent_volume_claim" "nfs_external" {
  metadata {
    name      = "nfs-external"
    namespace = kubernetes_namespace.workflows.metadata[0].name
  }

  spec {
    access_modes       = ["ReadWriteMany"]
    storage_class_name = local.nfs_storage_class
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
    namespace = kubernetes_namespace.workflows.metadata[0].name
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
    namespace = kubernetes_namespace.workflows.metadata[0].name
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
        service_account_name = kubernetes_service_account.workflow["restricted"].metadata[0].name

        container {
          name    = "debug-worker"
          image   = var.debug_worker_image
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
