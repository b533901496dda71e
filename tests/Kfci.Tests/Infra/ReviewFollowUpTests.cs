namespace Kfci.Tests.Infra;

/// <summary>
/// The third review of issue 14 (review14.md): each check holds for the repository and catches a broken copy of it (the
/// broken text is what the repository had before the fix).
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class ReviewFollowUpTests(TerraformFixture terraform)
{
    [Fact]
    public void StepImageIsBuiltAndSet_Repository_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.StepImageIsBuiltAndSet(terraform.Tree, terraform.RepositoryRoot));

    [Fact]
    public void StepImageIsBuiltAndSet_TriggerWithoutStepImage_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "        KFCI_STEP_IMAGE = \"${local.image_repository}/test-worker:${var.image_tag}\"\n", "");

        Assert.Contains(
            "the Trigger's env does not set KFCI_STEP_IMAGE to ${local.image_repository}/test-worker:${var.image_tag}: steps would run the default image",
            ReviewInvariants.StepImageIsBuiltAndSet(broken, terraform.RepositoryRoot));
    }

    [Fact]
    public void NoRetiredImages_Repository_HasNoViolations() =>
        Assert.Empty(ReviewInvariants.NoRetiredImages(terraform.RepositoryRoot));

    [Fact]
    public void NoRetiredImages_OldStepImageDefault_ReportsIt()
    {
        var root = Directory.CreateTempSubdirectory("kfci-images-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "shared", "Workflows"));
            File.WriteAllText(Path.Combine(root, "shared", "Workflows", "WorkflowRenderOptions.cs"), "public const string DefaultStepImage = \"gcr.io/kubeflow-ci/test-worker:latest\";\n");

            Assert.Equal(
                ["shared/Workflows/WorkflowRenderOptions.cs names an image of gcr.io/kubeflow-ci, which no longer exists"],
                ReviewInvariants.NoRetiredImages(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
