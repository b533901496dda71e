using Kfci.ProwConfig;
using Kfci.Workflows;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kfci.Tests.Security;

/// <summary>
/// The fuzzer (<c>Kfci.Benchmarks fuzz</c>, seed 13, prow_config.yaml input 6) found that YamlDotNet's parser answers a
/// flow mapping left open across block lines with <see cref="InvalidOperationException"/>, not a YamlException; the
/// parsers let it escape, so a pull request's file ended the Trigger's request with a 500 instead of a refusal. A longer
/// run (seed 13, prow_config.yaml input 2447) found a second escape: YamlDotNet's representation model answers an event it
/// cannot place with <see cref="ArgumentException"/>.
/// </summary>
public sealed class YamlParserStateTests
{
    // The fuzzer's input verbatim: "params: {pytme: docs" opens a flow mapping that block lines then interrupt.
    private const string OpenFlowMapping = """
        workflows:
          - name: unit
            job_types: [presubmit, postsubmit]
            include_dirs: [calc/*, tests/*]
            exclude_dirs: [docs/*]
            workflow: test/workflows/unit-tests.yaml
            params: {pytme: docs
            workfl*aow: test/workflows/docs-check.yaml
        python_paths: [a/b]
        """;

    // The fuzzer's input 2447 verbatim: an empty key, an unclosed flow sequence and an anchor glued to its key's colon.
    private const string UnplaceableEvent =
        "workflows:\n  - name: unit\n    job_types: [presubmit, postsubmit]\n    include_dirs: [calc/*, tests/*]\n    :\n"
        + "  - name: unit\n    job_types: [presubmit, postsubmit]\n    include_dirs: [calc/*, tests/*orkflow: test/workflows/unit-tests.yaml\n"
        + "    params: {python: \"3.12\", shards: 2}\n  - name: docs\n    workflow: test/workflows/docs-check.yaml\n"
        + "python_paths: [a/b].12\", shards: 2}\n  - name: docs\n  /docs-check.yaml\npython_paths:&a  [a/b].12\", shards: 2}\n"
        + "  - name: docs\n    workflow: test/workflows/docs-check.yaml\npython_paths: [a/b]";

    [Fact]
    public void YamlDotNet_UnplaceableEvent_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new YamlStream().Load(new StringReader(UnplaceableEvent)));
    }

    [Fact]
    public void ProwConfigParser_UnplaceableEvent_IsRefusedWithOneLine()
    {
        var e = Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse(UnplaceableEvent));

        Assert.StartsWith("prow_config.yaml: invalid YAML", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void BoundedYaml_UnplaceableEvent_IsRefusedWithOneLine()
    {
        var e = Assert.Throws<WorkflowRenderException>(() => BoundedYaml.Read(System.Text.Encoding.UTF8.GetBytes(UnplaceableEvent), "w.yaml"));

        Assert.StartsWith("w.yaml:", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void IsMalformedInput_OnlyWhatYamlDotNetThrows()
    {
        var fromLibrary = Assert.Throws<ArgumentException>(() => new YamlStream().Load(new StringReader(UnplaceableEvent)));
        var fromKfci = Assert.Throws<ArgumentException>(ThrowLikeABug);

        Assert.True(YamlDotNetFaults.IsMalformedInput(fromLibrary));
        Assert.False(YamlDotNetFaults.IsMalformedInput(fromKfci));
        Assert.False(YamlDotNetFaults.IsMalformedInput(new InvalidOperationException("never thrown")));
    }

    [Fact]
    public void YamlDotNet_OpenFlowMapping_ThrowsInvalidOperationException()
    {
        // Proves the input still triggers the library's behaviour; if an upgrade fixes it, this test says so.
        Assert.Throws<InvalidOperationException>(() => new YamlStream().Load(new StringReader(OpenFlowMapping)));
    }

    [Fact]
    public void ProwConfigParser_OpenFlowMapping_IsRefusedWithOneLine()
    {
        var e = Assert.Throws<ProwConfigException>(() => ProwConfigParser.Parse(OpenFlowMapping));

        Assert.StartsWith("prow_config.yaml: invalid YAML", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void BoundedYaml_OpenFlowMapping_IsRefusedWithOneLine()
    {
        var e = Assert.Throws<WorkflowRenderException>(() => BoundedYaml.Read(System.Text.Encoding.UTF8.GetBytes(OpenFlowMapping), "w.yaml"));

        Assert.StartsWith("w.yaml: invalid YAML", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static void ThrowLikeABug() => throw new ArgumentException("a bug in kfci's own reader");
}
