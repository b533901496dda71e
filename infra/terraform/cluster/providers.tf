# The second root module: what runs inside the test cluster. The first module (infra/terraform)
# creates the cluster; this one reads it through data sources, so replacing the cluster there never
# leaves these providers configured from a resource that is being replaced (after a replacement,
# apply this module again and it recreates the cluster's contents).
provider "google" {
  project = var.project_id
  zone    = var.zone
}

data "google_container_cluster" "testing" {
  name     = var.cluster_name
  location = var.zone
  project  = var.project_id
}

# The caller's own short-lived access token: read on every plan and apply, never needed from state
# (data sources are re-read each run), and no kubeconfig file or downloaded key.
data "google_client_config" "current" {}

provider "kubernetes" {
  host                   = "https://${data.google_container_cluster.testing.endpoint}"
  token                  = data.google_client_config.current.access_token
  cluster_ca_certificate = base64decode(data.google_container_cluster.testing.master_auth[0].cluster_ca_certificate)
}

provider "helm" {
  kubernetes {
    host                   = "https://${data.google_container_cluster.testing.endpoint}"
    token                  = data.google_client_config.current.access_token
    cluster_ca_certificate = base64decode(data.google_container_cluster.testing.master_auth[0].cluster_ca_certificate)
  }
}
