namespace Kfci.ProwConfig;

/// <summary>A parsed <c>prow_config.yaml</c>: its workflow entries in file order, and kubeflow's <c>python_paths</c>.</summary>
public sealed record ProwConfigFile(IReadOnlyList<WorkflowEntry> Workflows, IReadOnlyList<string> PythonPaths);

/// <summary>
/// One entry of <c>workflows:</c>, as kubeflow's <c>WorkflowComponent</c> plus kfci's <c>exclude_dirs</c> and
/// <c>workflow</c>. Lists and maps are empty, never null; keys kfci does not know are kept in <see cref="Other"/>.
/// </summary>
public sealed record WorkflowEntry
{
    private const string Remedy = "kfci renders only workflow: <path of an Argo Workflow YAML>";

    /// <summary>Position in <c>workflows:</c>, from 0.</summary>
    public required int Index { get; init; }

    public required string Name { get; init; }

    /// <summary>Line of the entry in the file (1-based), for messages.</summary>
    public int Line { get; init; }

    /// <summary>Job types the entry runs for; empty means every type. Kept as written, so a misspelt type simply never matches.</summary>
    public IReadOnlyList<string> JobTypes { get; init; } = [];

    /// <summary>fnmatch patterns; the entry runs only if a changed file matches one (not for periodics).</summary>
    public IReadOnlyList<string> IncludeDirs { get; init; } = [];

    /// <summary>kfci: fnmatch patterns of changed files to ignore before <see cref="IncludeDirs"/> is applied.</summary>
    public IReadOnlyList<string> ExcludeDirs { get; init; } = [];

    /// <summary>kfci: the Argo Workflow YAML in the repository, normalised and known to stay inside it; null if not given.</summary>
    public string? Workflow { get; init; }

    /// <summary>The entry's <c>params</c>; values are the YAML text of each scalar (nested values as JSON).</summary>
    public IReadOnlyDictionary<string, string> Params { get; init; } = new Dictionary<string, string>();

    public string? AppDir { get; init; }

    public string? Component { get; init; }

    public string? PyFunc { get; init; }

    /// <summary>The <c>kwargs</c> of a <c>py_func</c> entry as plain values (string, list, map, null).</summary>
    public IReadOnlyDictionary<string, object?> Kwargs { get; init; } = new Dictionary<string, object?>();

    public string? TektonRun { get; init; }

    /// <summary>Every other key of the entry (<c>tekton_params</c>, future additions...), as plain values.</summary>
    public IReadOnlyDictionary<string, object?> Other { get; init; } = new Dictionary<string, object?>();

    /// <summary>
    /// The entry's <c>test_target_name</c> as Kubeflow read it (its <c>kwargs</c>, where <c>run_e2e_workflow.py</c> set it
    /// for <c>py_func</c> entries), else from <c>params</c> or a top-level key; null when none names it. TestGrid groups a
    /// job's junit rows under it.
    /// </summary>
    public string? TestTargetName =>
        new[] { Kwargs.GetValueOrDefault(TestTargetKey) as string, Params.GetValueOrDefault(TestTargetKey), Other.GetValueOrDefault(TestTargetKey) as string }
            .FirstOrDefault(value => !string.IsNullOrWhiteSpace(value))?.Trim();

    private const string TestTargetKey = "test_target_name";

    /// <summary>Only entries naming an Argo Workflow file can be rendered by kfci.</summary>
    public bool IsSupported => Workflow is not null;

    /// <summary>Why kfci cannot render this entry, in one line; null when it can.</summary>
    public string? UnsupportedReason => this switch
    {
        { Workflow: not null } => null,
        { TektonRun: not null } => $"unsupported: tekton_run; {Remedy}",
        { PyFunc: not null } => $"unsupported: py_func; {Remedy}",
        { AppDir: not null } or { Component: not null } => $"unsupported: ksonnet app_dir/component; {Remedy}",
        _ => $"unsupported: no workflow; {Remedy}",
    };
}
