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
