using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

public sealed class KubeflowNamesTests
{
    [Theory]
    [InlineData("kf-v0-4-n00", true)]
    [InlineData("kf-v1.2-n03-storage", true)]
    [InlineData("kf-vmaster-n01", true)]
    [InlineData("kf-master-n99", true)]
    [InlineData("kf-vmaster-n1", false)]
    [InlineData("kf-vmaster-n001", false)]
    [InlineData("kf-vmaster-n01-x", true)]
    [InlineData("kf-vmaster-n00-storage-artifact-store", true)]
    [InlineData("kf-vmaster-n00-admin@kubeflow-ci.iam.gserviceaccount.com", true)]
    [InlineData("kf-vmaster-n00x", false)]
    [InlineData("kf-ci-v1", false)]
    [InlineData("xkf-vmaster-n01", false)]
    public void IsReleasePoolSlot_Examples(string name, bool expected) =>
        Assert.Equal(expected, KubeflowNames.IsReleasePoolSlot(name));

    [Theory]
    [InlineData("kf-vmaster-0922-abc", "vmaster", "kf-vmaster-0922-abc")]
    [InlineData("kf-vmaster-0922-abc-storage", "vmaster", "kf-vmaster-0922-abc")]
    [InlineData("kf-vmaster-0922-abc-pvc-77", "vmaster", "kf-vmaster-0922-abc")]
    [InlineData("kf-master-0922-abc", "vmaster", "kf-vmaster-0922-abc")]
    [InlineData("kf-v1-2-0922-abc", "v1-2", "kf-v1-2-0922-abc")]
    [InlineData("kf-v1.2-0922-abc-storage", "v1-2", "kf-v1-2-0922-abc")]
    [InlineData("kf-v0-4-custom", "v0-4", "kf-v0-4-custom")]
    [InlineData("kf-v1234-x", "v1234", "kf-v1234-x")]
    public void ParseInstance_Examples(string name, string version, string instance) =>
        Assert.Equal(new KubeflowInstance(version, instance), KubeflowNames.ParseInstance(name));

    [Theory]
    [InlineData("kf-ci-v1")]
    [InlineData("kf-test")]
    [InlineData("kubeflow-vmaster-0922-abc")]
    public void ParseInstance_NotAutoDeploy_Null(string name) => Assert.Null(KubeflowNames.ParseInstance(name));
}
