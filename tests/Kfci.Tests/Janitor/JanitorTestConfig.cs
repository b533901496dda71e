using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

/// <summary>A scoped configuration for tests: the rules' defaults sweeping kubeflow-ci's test cluster and its zones, as the old Janitor did.</summary>
internal static class JanitorTestConfig
{
    public const string ScopeYaml = "projects: [kubeflow-ci]\ntestCluster: kubeflow-testing\nzones: [us-east1-d]\n";

    public static JanitorConfig Scoped { get; } = JanitorConfig.Default with
    {
        Projects = ["kubeflow-ci"],
        TestCluster = "kubeflow-testing",
        Zones = ["us-east1-b", "us-east1-c", "us-east1-d", "us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"],
        Regions = ["us-east1", "us-central1"],
    };
}
