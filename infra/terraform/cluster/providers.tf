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

# Credentials come from gke-gcloud-auth-plugin (GKE's documented client-go credential plugin, installed with gcloud),
# which the providers run on every plan and apply: no access token is read into a data source, so none lands in the
# state file (a data.google_client_config token would be stored there), and no kubeconfig file or downloaded key.
provider "kubernetes" {
  host                   = "https://${data.google_container_cluster.testing.endpoint}"
  cluster_ca_certificate = base64decode(data.google_container_cluster.testing.master_auth[0].cluster_ca_certificate)

  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "gke-gcloud-auth-plugin"
  }
}

provider "helm" {
  kubernetes {
    host                   = "https://${data.google_container_cluster.testing.endpoint}"
    cluster_ca_certificate = base64decode(data.google_container_cluster.testing.master_auth[0].cluster_ca_certificate)

    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "gke-gcloud-auth-plugin"
    }
  }
}
