using System.Text.Json;

namespace Kfci.Tests.Infra;

/// <summary>
/// The Uploader reads the workflows' artifacts_dir from the Filestore share in the cloud: Terraform mounts that share
/// read-only into the Uploader's Cloud Run service only (NFS volume, gen2, Direct VPC egress) at the path KFCI_NFS_ROOT names.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class UploaderShareInvariantTests(TerraformFixture terraform)
{
    [Fact]
    public void UploaderMountsTheShareReadOnly_Configuration_HasNoViolations() =>
        Assert.Empty(Violations(terraform.Tree));

    [Fact]
    public void UploaderMountsTheShareReadOnly_Writable_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "read_only = true", "read_only = false");

        Assert.Contains("the Uploader's NFS volume is not read_only", Violations(broken));
    }

    [Fact]
    public void UploaderMountsTheShareReadOnly_RootElsewhere_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "KFCI_NFS_ROOT = local.uploader_nfs_mount", "KFCI_NFS_ROOT = \"/mnt/elsewhere\"");

        Assert.Contains("the Uploader's KFCI_NFS_ROOT is '/mnt/elsewhere', not the mount path '${local.uploader_nfs_mount}'", Violations(broken));
    }

    [Fact]
    public void UploaderMountsTheShareReadOnly_NoVpcAccess_ReportsIt()
    {
        var broken = terraform.ParseBroken("functions.tf", "dynamic \"vpc_access\"", "dynamic \"vpc_acces\"");

        Assert.Contains("the Uploader has no Direct VPC egress to reach the share", Violations(broken));
    }

    private static List<string> Violations(TerraformTree tree)
    {
        var violations = new List<string>();
        var service = tree.Resource("google_cloud_run_v2_service", "function");
        var template = service is null ? default : Hcl.Blocks(service.Body, "template").FirstOrDefault();
        if (template.ValueKind != JsonValueKind.Object)
        {
            return ["no google_cloud_run_v2_service.function template"];
        }

        // Other volumes (the Janitor's configuration secret) are not the share: only NFS ones count here.
        var volumes = Hcl.DynamicBlocks(template, "volumes").Where(v => Hcl.Blocks(v, "content").Any(c => Hcl.Blocks(c, "nfs").Any())).ToList();
        var nfs = volumes.SelectMany(v => Hcl.Blocks(v, "content")).SelectMany(c => Hcl.Blocks(c, "nfs")).ToList();
        if (nfs.Count != 1 || !volumes.All(OnlyUploader))
        {
            violations.Add("want exactly one NFS volume, for the Uploader only");
        }

        foreach (var share in nfs)
        {
            if (Hcl.Attribute(share, "read_only") != "true")
            {
                violations.Add("the Uploader's NFS volume is not read_only");
            }

            if (!(Hcl.Attribute(share, "server") ?? "").Contains("google_filestore_instance.nfs", StringComparison.Ordinal) || Hcl.Attribute(share, "path") != "/kubeflow")
            {
                violations.Add("the Uploader's NFS volume is not the workflows' Filestore share /kubeflow");
            }
        }

        var mounts = Hcl.Blocks(template, "containers").SelectMany(c => Hcl.DynamicBlocks(c, "volume_mounts"))
            .Where(m => Hcl.Blocks(m, "content").Any(c => Hcl.Attribute(c, "name") == "nfs")).ToList();
        var mountPath = mounts.SelectMany(m => Hcl.Blocks(m, "content")).Select(c => Hcl.Attribute(c, "mount_path")).FirstOrDefault();
        if (mountPath is null || !mounts.All(OnlyUploader))
        {
            violations.Add("the Uploader's container does not mount the NFS volume (or another function does)");
        }

        var uploader = TerraformInvariants.Functions(tree).FirstOrDefault(f => f.Key == "uploader");
        var root = uploader is null || !uploader.Body.TryGetProperty("env", out var env) ? null : Hcl.Attribute(env, "KFCI_NFS_ROOT");
        if (root != mountPath)
        {
            violations.Add($"the Uploader's KFCI_NFS_ROOT is '{root}', not the mount path '{mountPath}'");
        }

        if (!Hcl.DynamicBlocks(template, "vpc_access").Any(OnlyUploader))
        {
            violations.Add("the Uploader has no Direct VPC egress to reach the share");
        }

        if (!(Hcl.Attribute(template, "execution_environment") ?? "").Contains("EXECUTION_ENVIRONMENT_GEN2", StringComparison.Ordinal))
        {
            violations.Add("NFS volumes need the gen2 execution environment");
        }

        return violations;
    }

    private static bool OnlyUploader(JsonElement dynamicBlock) =>
        (Hcl.Attribute(dynamicBlock, "for_each") ?? "").Contains("each.key == \"uploader\"", StringComparison.Ordinal);
}
