using Xunit.Abstractions;

namespace Kfci.Tests.Infra;

[Collection(TerraformCollection.Name)]
public sealed class TerraformFormatTests(TerraformFixture terraform)
{
    [Fact]
    public void Check_Configuration_IsFormattedAsTerraformFmtWould() =>
        Assert.Empty(TerraformFormat.Check(terraform.ConfigurationDirectory));

    [Fact]
    public void Check_MisalignedEquals_ReportsIt()
    {
        var violations = terraform.WithBrokenCopy("pubsub.tf", "  name    = \"prow-events\"", "  name = \"prow-events\"", TerraformFormat.Check);

        Assert.Contains("pubsub.tf:5: '=' at column 8, terraform fmt aligns it at column 11 with the attributes around it", violations);
    }

    [Fact]
    public void Check_WrongIndentation_ReportsIt()
    {
        var violations = terraform.WithBrokenCopy("secrets.tf", "  replication {\n    auto {}", "  replication {\n      auto {}", TerraformFormat.Check);

        Assert.Contains("secrets.tf:8: indented 6 spaces, terraform fmt indents it 4", violations);
    }

    [Theory]
    [InlineData("a = 1\nbb = 2\n", "x.tf:1: '=' at column 3, terraform fmt aligns it at column 4 with the attributes around it")]
    [InlineData("a  = 1\n\nbb = 2\n", "x.tf:1: '=' at column 4, terraform fmt aligns it at column 3 with the attributes around it")]
    [InlineData("x {\n\ty = 1\n}\n", "x.tf:2: contains a tab or carriage return")]
    [InlineData("a = 1 \n", "x.tf:1: trailing whitespace")]
    [InlineData("a = 1", "x.tf: does not end with a newline")]
    [InlineData("a =  1\n", "x.tf:1: terraform fmt puts exactly one space after '='")]
    [InlineData("x = [foo({\n  a = 1\n  })]\n", "x.tf:3: indented 2 spaces, terraform fmt indents it 0")]
    public void CheckText_Violation_IsReported(string text, string violation) =>
        Assert.Contains(violation, TerraformFormat.CheckText("x.tf", text));

    [Theory]
    [InlineData("a   = 1\nbbb = { c = \"=\" }\n")]
    [InlineData("tags = {\n  a = \"${x}\"\n}\nname = \"x\"\n")]
    [InlineData("values = [yamlencode({\n  a = 1\n})]\n")]
    [InlineData("a = <<-EOT\n   free  text = here\n  EOT\nb = 2\n")]
    [InlineData("# c = d\nc = var.x == \"y\" ? 1 : 2\n")]
    [InlineData("f = { for k, v in x : k => v }\ng = \"${join(\",\", [\"a\"])}\"\n")]
    public void CheckText_FormattedInput_HasNoViolations(string text) =>
        Assert.Empty(TerraformFormat.CheckText("x.tf", text));
}

/// <summary><c>terraform fmt -check -recursive</c> itself, where a terraform binary is on PATH.</summary>
[Collection(TerraformCollection.Name)]
public sealed class TerraformFmtTests(TerraformFixture terraform, ITestOutputHelper output)
{
    [Fact]
    public async Task FmtCheck_BothRootModules_AreFormatted()
    {
        var start = new System.Diagnostics.ProcessStartInfo("terraform") { WorkingDirectory = terraform.ConfigurationDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "fmt", "-check", "-recursive", "-no-color" })
        {
            start.ArgumentList.Add(argument);
        }

        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Said, not silent: the structural check above (TerraformFormat) still runs everywhere.
            output.WriteLine("terraform is not on PATH: skipping `terraform fmt -check` (TerraformFormatTests still check the layout)");
            return;
        }

        using (process)
        {
            var unformatted = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"terraform fmt -check lists files to reformat: {unformatted}");
        }
    }
}
