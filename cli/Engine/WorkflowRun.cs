using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kfci.Http;
using Kfci.Kubernetes;

namespace Kfci.Cli.Engine;

/// <summary>What a <see cref="WorkflowRun"/> needs from the engine that hosts it.</summary>
internal interface IRunHost
{
    EngineOptions Options { get; }

    SemaphoreSlim Slots { get; }

    /// <summary>Changes the stored workflow (status, labels); throws 404 when it was deleted.</summary>
    void UpdateWorkflow(string ns, string name, Action<JsonObject> change);

    void RecordEvent(string ns, string kind, string name, string? uid, string reason, string message, string type);

    string LogPath(string ns, string pod);

    Task WorkflowFinishedAsync(JsonObject workflow, string reason, string message);
}

/// <summary>
/// Interprets one Argo workflow on the host, recording nodes in Argo's shape as it goes: the entrypoint's
/// template tree (steps groups in sequence with their steps in parallel, DAG tasks as their dependencies
/// allow, retries, <c>when</c>), then <c>onExit</c>. Shutdown (<c>Stop</c>/<c>Terminate</c>) and deadlines kill
/// the running steps.
/// </summary>
internal sealed class WorkflowRun : IDisposable
{
    private const string DeadlineMessage = "Step exceeded its deadline";
    private const string PodDeadlineMessage = "Pod was active on the node longer than the specified deadline";

    private readonly IRunHost _host;
    private readonly string _ns;
    private readonly string _name;
    private readonly string? _uid;
    private readonly JsonObject _spec;
    private readonly Dictionary<string, JsonObject> _templates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _globals = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, JsonObject> _nodes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _exitStop = new();
    private string _stopReason = "";
    private bool _timedOut;
    private bool _deleted;
    private bool _disposed;

    public WorkflowRun(IRunHost host, JsonObject workflow)
    {
        _host = host;
        _ns = workflow.Namespace!;
        _name = workflow.Name!;
        _uid = workflow.Uid;
        _spec = (JsonObject)workflow["spec"]!.DeepClone();
        foreach (var template in (_spec["templates"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (template["name"]?.GetValue<string>() is { } templateName)
            {
                _templates[templateName] = template;
            }
        }

        _globals["workflow.name"] = _name;
        _globals["workflow.namespace"] = _ns;
        _globals["workflow.uid"] = _uid ?? "";
        _globals["workflow.creationTimestamp"] = workflow["metadata"]?["creationTimestamp"]?.ToString() ?? "";
        _globals["workflow.serviceAccountName"] = _spec["serviceAccountName"]?.ToString() ?? "default";
        var parameters = new JsonObject();
        foreach (var parameter in (_spec["arguments"]?["parameters"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = parameter["name"]?.ToString() ?? "";
            var value = Text(parameter["value"]);
            _globals[$"workflow.parameters.{name}"] = value;
            parameters[name] = value;
        }

        _globals["workflow.parameters"] = parameters.ToJsonString();
    }

    public string Name => _name;

    /// <summary>Stops the workflow as <c>spec.shutdown</c> asks: running steps are killed; <c>Stop</c> still runs onExit.</summary>
    public void Shutdown(string strategy)
    {
        lock (_lock)
        {
            if (_disposed || _stop.IsCancellationRequested && (strategy != "Terminate" || _exitStop.IsCancellationRequested))
            {
                return;
            }

            _stopReason = $"Stopped with strategy '{strategy}'";
        }

        _stop.Cancel();
        if (strategy == "Terminate")
        {
            _exitStop.Cancel();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _stop.Dispose();
        _exitStop.Dispose();
    }

    /// <summary>The workflow was deleted: stop everything without recording anything.</summary>
    public void Abandon()
    {
        _deleted = true;
        Shutdown("Terminate");
    }

    public async Task RunAsync()
    {
        var started = DateTimeOffset.UtcNow;
        if (!TryUpdate(w => SetPhase(w, "Running", null, started)))
        {
            return;
        }

        _host.RecordEvent(_ns, "Workflow", _name, _uid, "WorkflowRunning", "Workflow Running", "Normal");
        _host.RecordEvent(_ns, "Workflow", _name, _uid, "LocalEngine",
            "kfci local engine: images are not pulled; every step runs with this host's tools" + (_host.Options.Bubblewrap is null ? "" : " (volumes mapped with bubblewrap)"), "Normal");
        if (_spec["activeDeadlineSeconds"] is { } deadline && Seconds(deadline) is { } seconds)
        {
            _ = Task.Delay(TimeSpan.FromSeconds(seconds), _stop.Token).ContinueWith(
                _ =>
                {
                    lock (_lock)
                    {
                        _timedOut = true;
                        _stopReason = DeadlineMessage;
                    }

                    _stop.Cancel();
                },
                CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }

        string phase;
        string? message;
        try
        {
            var scope = new Scope(() => _stopReason, _stop.Token);
            var main = await ExecuteAsync(_spec["entrypoint"]!.ToString(), _spec["arguments"]?["parameters"] as JsonArray, _name, _name, null, scope, _globals);
            phase = main.Phase;
            message = main.Message;
            if (_spec["onExit"]?.ToString() is { Length: > 0 } onExit && !_exitStop.IsCancellationRequested && !_deleted)
            {
                var exitVariables = new Dictionary<string, string>(_globals, StringComparer.Ordinal)
                {
                    ["workflow.status"] = phase,
                    ["workflow.failures"] = Failures(),
                };
                var exit = await ExecuteAsync(onExit, null, $"{_name}.onExit", $"{_name}.onExit", null, new Scope(() => _stopReason, _exitStop.Token), exitVariables);
                if (exit.Phase != "Succeeded" && phase == "Succeeded")
                {
                    (phase, message) = (exit.Phase, exit.Message);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            (phase, message) = ("Error", $"the local engine failed: {e.Message}");
        }

        if (_deleted)
        {
            return;
        }

        bool timedOut;
        lock (_lock)
        {
            timedOut = _timedOut;
        }

        if (timedOut && phase == "Succeeded")
        {
            (phase, message) = ("Failed", DeadlineMessage);
        }

        JsonObject? final = null;
        TryUpdate(w =>
        {
            SetPhase(w, phase, phase == "Succeeded" ? null : message ?? "", DateTimeOffset.UtcNow);
            final = w;
        });
        if (final is not null)
        {
            var (reason, text) = timedOut ? ("WorkflowTimedOut", message ?? DeadlineMessage)
                : phase == "Succeeded" ? ("WorkflowSucceeded", "Workflow completed")
                : ("WorkflowFailed", message ?? phase);
            await _host.WorkflowFinishedAsync(final, reason, text);
        }
    }

    private sealed record Scope(Func<string> Reason, CancellationToken Token);

    private sealed record NodeResult(string Phase, string? Message, string? Result, string Id);

    private async Task<NodeResult> ExecuteAsync(
        string templateName, JsonArray? arguments, string nodeName, string displayName, string? parentId, Scope scope, Dictionary<string, string> outer)
    {
        if (!_templates.TryGetValue(templateName, out var template))
        {
            return Leaf(nodeName, displayName, parentId, templateName, "Pod", "Error", $"template '{templateName}' not found");
        }

        var variables = new Dictionary<string, string>(_globals, StringComparer.Ordinal);
        if (outer.TryGetValue("workflow.status", out var status))
        {
            variables["workflow.status"] = status;
            variables["workflow.failures"] = outer["workflow.failures"];
        }

        var inputs = (template["inputs"]?["parameters"] as JsonArray ?? []).OfType<JsonObject>();
        var supplied = (arguments ?? []).OfType<JsonObject>().ToDictionary(p => p["name"]?.ToString() ?? "", p => Text(p["value"]), StringComparer.Ordinal);
        var all = new JsonObject();
        foreach (var input in inputs)
        {
            var name = input["name"]?.ToString() ?? "";
            var value = supplied.TryGetValue(name, out var given) ? given : input["value"] is { } v ? Text(v) : input["default"] is { } d ? Text(d) : null;
            if (value is null)
            {
                return Leaf(nodeName, displayName, parentId, templateName, "Pod", "Error", $"inputs.parameters.{name} was not supplied");
            }

            variables[$"inputs.parameters.{name}"] = Expressions.Substitute(value, variables);
            all[name] = variables[$"inputs.parameters.{name}"];
        }

        variables["inputs.parameters"] = all.ToJsonString();
        var resolved = (JsonObject)Expressions.Substitute(template, variables)!;
        if (resolved["activeDeadlineSeconds"] is { } deadline && Seconds(deadline) is { } seconds && resolved["container"] is null && resolved["script"] is null)
        {
            scope = WithDeadline(scope, TimeSpan.FromSeconds(seconds), DeadlineMessage);
        }

        if (resolved["retryStrategy"] is JsonObject retry)
        {
            return await RetryAsync(resolved, retry, variables, nodeName, displayName, parentId, scope);
        }

        return await BodyAsync(resolved, variables, nodeName, displayName, parentId, scope);
    }

    private async Task<NodeResult> RetryAsync(JsonObject template, JsonObject retry, Dictionary<string, string> variables, string nodeName, string displayName, string? parentId, Scope scope)
    {
        // Without a limit Argo retries until the step succeeds.
        var limit = retry["limit"] is null ? int.MaxValue : Seconds(retry["limit"]) ?? 0;
        var policy = retry["retryPolicy"]?.ToString() ?? "OnFailure";
        var id = StartNode(nodeName, displayName, parentId, template["name"]?.ToString(), "Retry");
        NodeResult attempt;
        for (var i = 0; ; i++)
        {
            var attemptVariables = new Dictionary<string, string>(variables, StringComparer.Ordinal) { ["retries"] = i.ToString(CultureInfo.InvariantCulture) };
            var attemptTemplate = (JsonObject)Expressions.Substitute(template, attemptVariables)!;
            attempt = await BodyAsync(attemptTemplate, attemptVariables, $"{nodeName}({i})", $"{displayName}({i})", id, scope);
            var retryable = policy switch
            {
                "Always" => attempt.Phase is "Failed" or "Error",
                "OnError" => attempt.Phase == "Error",
                _ => attempt.Phase == "Failed",
            };
            if (!retryable || i >= limit || scope.Token.IsCancellationRequested)
            {
                break;
            }
        }

        var message = attempt.Phase == "Succeeded" ? null : scope.Token.IsCancellationRequested ? attempt.Message : "No more retries left";
        FinishNode(id, attempt.Phase, message, attempt.Result);
        return attempt with { Id = id, Message = message };
    }

    private Task<NodeResult> BodyAsync(JsonObject template, Dictionary<string, string> variables, string nodeName, string displayName, string? parentId, Scope scope)
    {
        if (template["steps"] is JsonArray steps)
        {
            return StepsAsync(template, steps, variables, nodeName, displayName, parentId, scope);
        }

        if (template["dag"] is JsonObject dag)
        {
            return DagAsync(template, dag, variables, nodeName, displayName, parentId, scope);
        }

        return PodAsync(template, nodeName, displayName, parentId, scope);
    }

    private async Task<NodeResult> StepsAsync(JsonObject template, JsonArray groups, Dictionary<string, string> variables, string nodeName, string displayName, string? parentId, Scope scope)
    {
        var id = StartNode(nodeName, displayName, parentId, template["name"]?.ToString(), "Steps");
        var scopeVariables = new Dictionary<string, string>(variables, StringComparer.Ordinal);
        for (var g = 0; g < groups.Count; g++)
        {
            if (scope.Token.IsCancellationRequested)
            {
                return Finish(id, "Failed", scope.Reason(), null);
            }

            var groupName = $"{nodeName}[{g}]";
            var groupId = StartNode(groupName, $"[{g}]", id, null, "StepGroup");
            var steps = groups[g] as JsonArray ?? [groups[g]?.DeepClone()];
            var running = new List<(string Step, Task<NodeResult> Run, bool Looped)>();
            foreach (var step in steps.OfType<JsonObject>())
            {
                var stepName = step["name"]?.ToString() ?? "";
                foreach (var (suffix, itemVariables) in Items(step, scopeVariables))
                {
                    var stepVariables = new Dictionary<string, string>(scopeVariables, StringComparer.Ordinal);
                    foreach (var (key, value) in itemVariables)
                    {
                        stepVariables[key] = value;
                    }

                    running.Add((stepName, RunStepAsync(step, stepVariables, $"{groupName}.{stepName}{suffix}", stepName + suffix, groupId, scope), suffix.Length > 0));
                }
            }

            var results = await Task.WhenAll(running.Select(r => r.Run));
            for (var i = 0; i < running.Count; i++)
            {
                if (!running[i].Looped)
                {
                    Remember(scopeVariables, "steps", running[i].Step, results[i]);
                }
            }

            foreach (var looped in running.Select((r, i) => (r, i)).Where(p => p.r.Looped).GroupBy(p => p.r.Step))
            {
                scopeVariables[$"steps.{looped.Key}.outputs.result"] = Aggregate(looped.Select(p => results[p.i].Result));
            }

            var failed = results.FirstOrDefault(r => r.Phase is "Failed" or "Error");
            FinishNode(groupId, failed is null ? "Succeeded" : "Failed", failed is null ? null : $"child '{failed.Id}' failed", null);
            if (failed is not null)
            {
                return Finish(id, "Failed", scope.Token.IsCancellationRequested ? scope.Reason() : $"child '{failed.Id}' failed", null);
            }
        }

        return Finish(id, "Succeeded", null, null);
    }

    private async Task<NodeResult> RunStepAsync(JsonObject step, Dictionary<string, string> variables, string nodeName, string displayName, string parentId, Scope scope)
    {
        await Task.Yield();
        var resolved = (JsonObject)Expressions.Substitute(step, variables)!;
        var templateName = resolved["template"]?.ToString() ?? "";
        if (resolved["when"]?.ToString() is { Length: > 0 } when)
        {
            if (Expressions.FirstUnresolved(resolved["when"]) is { } unresolved)
            {
                return Leaf(nodeName, displayName, parentId, templateName, "Skipped", "Error", $"failed to resolve {unresolved} in when '{when}'");
            }

            bool run;
            try
            {
                run = Expressions.EvaluateWhen(when);
            }
            catch (FormatException e)
            {
                return Leaf(nodeName, displayName, parentId, templateName, "Skipped", "Error", $"invalid when '{when}': {e.Message}");
            }

            if (!run)
            {
                return Leaf(nodeName, displayName, parentId, templateName, "Skipped", "Skipped", $"when '{when}' evaluated false");
            }
        }

        return await ExecuteAsync(templateName, resolved["arguments"]?["parameters"] as JsonArray, nodeName, displayName, parentId, scope, variables);
    }

    private async Task<NodeResult> DagAsync(JsonObject template, JsonObject dag, Dictionary<string, string> variables, string nodeName, string displayName, string? parentId, Scope scope)
    {
        var id = StartNode(nodeName, displayName, parentId, template["name"]?.ToString(), "DAG");
        var tasks = (dag["tasks"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var failFast = dag["failFast"]?.ToString() != "false";
        var expressions = tasks.ToDictionary(t => t["name"]!.ToString(), Depends, StringComparer.Ordinal);
        // A failure another task's depends reacts to (A.Failed, A.Completed, …) is handled, not fatal.
        var handled = expressions.Values.SelectMany(e => System.Text.RegularExpressions.Regex.Matches(e, @"([A-Za-z0-9_-]+)\.(Failed|Errored|Completed|AnySucceeded|AllFailed)").Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        var outcomes = new Dictionary<string, NodeResult>(StringComparer.Ordinal);
        var dagVariables = new Dictionary<string, string>(variables, StringComparer.Ordinal);
        var pending = tasks.ToDictionary(t => t["name"]!.ToString(), StringComparer.Ordinal);
        var running = new Dictionary<Task<NodeResult>, string>();
        NodeResult? fatal = null;
        while (pending.Count > 0 || running.Count > 0)
        {
            foreach (var (taskName, task) in pending.ToList())
            {
                var expression = expressions[taskName];
                if (!Expressions.DependsTasks(expression).All(outcomes.ContainsKey))
                {
                    continue;
                }

                pending.Remove(taskName);
                bool satisfied;
                try
                {
                    satisfied = expression.Length == 0 || Expressions.EvaluateDepends(expression, term => Satisfies(term, outcomes));
                }
                catch (FormatException e)
                {
                    outcomes[taskName] = Leaf($"{nodeName}.{taskName}", taskName, id, task["template"]?.ToString(), "Skipped", "Error", $"invalid depends '{expression}': {e.Message}");
                    fatal ??= outcomes[taskName];
                    continue;
                }

                if (!satisfied || scope.Token.IsCancellationRequested || (failFast && fatal is not null))
                {
                    var why = satisfied ? "not started: the DAG is failing" : $"omitted: depends condition not met";
                    outcomes[taskName] = Leaf($"{nodeName}.{taskName}", taskName, id, task["template"]?.ToString(), "Skipped", "Omitted", why);
                    continue;
                }

                running[RunTaskAsync(task, dagVariables, $"{nodeName}.{taskName}", taskName, id, scope)] = taskName;
            }

            if (running.Count == 0)
            {
                foreach (var (taskName, task) in pending)
                {
                    outcomes[taskName] = Leaf($"{nodeName}.{taskName}", taskName, id, task["template"]?.ToString(), "Skipped", "Error", $"depends on tasks that do not exist: '{expressions[taskName]}'");
                    fatal ??= outcomes[taskName];
                }

                break;
            }

            var done = await Task.WhenAny(running.Keys);
            var doneName = running[done];
            running.Remove(done);
            var outcome = await done;
            outcomes[doneName] = outcome;
            Remember(dagVariables, "tasks", doneName, outcome);
            if (outcome.Phase is "Failed" or "Error" && !handled.Contains(doneName))
            {
                fatal ??= outcome;
            }
        }

        if (scope.Token.IsCancellationRequested)
        {
            return Finish(id, "Failed", scope.Reason(), null);
        }

        return fatal is null ? Finish(id, "Succeeded", null, null) : Finish(id, "Failed", $"child '{fatal.Id}' failed", null);
    }

    private async Task<NodeResult> RunTaskAsync(JsonObject task, Dictionary<string, string> variables, string nodeName, string displayName, string parentId, Scope scope)
    {
        await Task.Yield();
        var items = Items(task, variables).ToList();
        if (items is [("", _)])
        {
            return await RunStepAsync(task, variables, nodeName, displayName, parentId, scope);
        }

        var groupId = StartNode(nodeName, displayName, parentId, task["template"]?.ToString(), "TaskGroup");
        var results = await Task.WhenAll(items.Select(item =>
        {
            var itemVariables = new Dictionary<string, string>(variables, StringComparer.Ordinal);
            foreach (var (key, value) in item.Variables)
            {
                itemVariables[key] = value;
            }

            return RunStepAsync(task, itemVariables, nodeName + item.Suffix, displayName + item.Suffix, groupId, scope);
        }));
        var failed = results.FirstOrDefault(r => r.Phase is "Failed" or "Error");
        return Finish(groupId, failed is null ? "Succeeded" : "Failed", failed is null ? null : $"child '{failed.Id}' failed", null) with { Id = groupId };
    }

    private async Task<NodeResult> PodAsync(JsonObject template, string nodeName, string displayName, string? parentId, Scope scope)
    {
        var id = StartNode(nodeName, displayName, parentId, template["name"]?.ToString(), "Pod", "Pending");
        var container = (template["container"] ?? template["script"]) as JsonObject ?? [];
        if (Expressions.FirstUnresolved(container) is { } unresolved)
        {
            return Finish(id, "Error", $"failed to resolve {unresolved}", null);
        }

        try
        {
            await _host.Slots.WaitAsync(scope.Token);
        }
        catch (OperationCanceledException)
        {
            return Finish(id, "Failed", scope.Reason(), null);
        }

        try
        {
            Update(id, node => node["phase"] = "Running");
            _host.RecordEvent(_ns, "Pod", id, null, "Started", $"Started container {ArgoNames.MainContainer} on this host (image {container["image"]} not pulled: the local engine runs the host's tools)", "Normal");
            var command = Command(template, container, id);
            var stepScope = template["activeDeadlineSeconds"] is { } deadline && Seconds(deadline) is { } seconds
                ? WithDeadline(scope, TimeSpan.FromSeconds(seconds), PodDeadlineMessage)
                : scope;
            var outcome = command.Error is { } error
                ? new StepOutcome(-1, "", error, false)
                : await StepProcess.RunAsync(command.Step!, _host.LogPath(_ns, id), _host.Options.Bubblewrap, stepScope.Token);
            var result = outcome.Stdout.Trim();
            Update(id, node => node["outputs"] = new JsonObject
            {
                ["result"] = result,
                ["exitCode"] = outcome.ExitCode.ToString(CultureInfo.InvariantCulture),
            });
            var (phase, message) = outcome switch
            {
                { StartError: { } startError } => ("Error", startError),
                { Killed: true } => ("Failed", stepScope.Reason()),
                { ExitCode: 0 } => ("Succeeded", (string?)null),
                _ => ("Failed", $"Error (exit code {outcome.ExitCode})"),
            };
            return Finish(id, phase, message, result);
        }
        finally
        {
            _host.Slots.Release();
        }
    }

    /// <summary>Where Argo's executor stages a script template's source in the container.</summary>
    private const string ScriptPath = "/argo/staging/script";

    private (StepCommand? Step, string? Error) Command(JsonObject template, JsonObject container, string podName)
    {
        var argv = (container["command"] as JsonArray ?? []).Select(Text).Concat((container["args"] as JsonArray ?? []).Select(Text)).ToList();
        var mounts = new List<Mount>();
        if (template["script"] is JsonObject script)
        {
            var file = Path.Combine(_host.Options.StateDirectory, "scripts", _ns, podName);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, script["source"]?.ToString() ?? "");
            // Argo's script file is executable: `command: [sh, -c]` runs it by path.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
            // Shown read-only where Argo puts it: the state directory itself may be under the sandbox's private /tmp.
            mounts.Add(new Mount(file, ScriptPath, ReadOnly: true));
            argv = [.. (container["command"] as JsonArray ?? []).Select(Text), ScriptPath, .. (container["args"] as JsonArray ?? []).Select(Text)];
        }

        var environment = StepProcess.BaseEnvironment();

        foreach (var env in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
        {
            environment[env["name"]?.ToString() ?? ""] = Text(env["value"]);
        }

        // Argo substitutes workflow parameters in spec.volumes (a claim named {{workflow.parameters.nfs_claim}}); template volumes already were.
        var workflowVolumes = Expressions.Substitute(_spec["volumes"] as JsonArray ?? [], _globals) as JsonArray ?? [];
        var volumes = workflowVolumes.Concat(template["volumes"] as JsonArray ?? []).OfType<JsonObject>()
            .ToDictionary(v => v["name"]?.ToString() ?? "", StringComparer.Ordinal);
        foreach (var volumeMount in (container["volumeMounts"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var volumeName = volumeMount["name"]?.ToString() ?? "";
            if (!volumes.TryGetValue(volumeName, out var volume))
            {
                return (null, $"volumeMounts: volume '{volumeName}' is not declared in spec.volumes or the template's volumes");
            }

            var claim = volume["persistentVolumeClaim"]?["claimName"]?.ToString();
            if (claim is not null && !VolumePaths.IsClaimName(claim))
            {
                return (null, $"volume '{volumeName}': claimName '{claim}' is not a valid claim name");
            }

            var source = claim is not null
                ? _host.Options.ClaimDirectory(claim)
                : Path.Combine(_host.Options.StateDirectory, "emptydir", _ns, _name, volumeName);
            if (volumeMount["subPath"]?.ToString() is { Length: > 0 } subPath)
            {
                if (!VolumePaths.IsSubPath(subPath))
                {
                    return (null, $"volumeMounts: subPath '{subPath}' must be a relative path without '..'");
                }

                source = Path.Combine(source, subPath);
            }

            Directory.CreateDirectory(source);
            var readOnly = volumeMount["readOnly"]?.ToString() == "true" || volume["persistentVolumeClaim"]?["readOnly"]?.ToString() == "true";
            mounts.Add(new Mount(source, volumeMount["mountPath"]?.ToString() ?? "", readOnly));
        }

        if (mounts.FirstOrDefault(m => !m.Target.StartsWith('/')) is { } relative)
        {
            return (null, $"volumeMounts: mountPath '{relative.Target}' is not absolute");
        }

        return (new StepCommand(argv, environment, container["workingDir"]?.ToString(), mounts), null);
    }

    private static IEnumerable<(string Suffix, Dictionary<string, string> Variables)> Items(JsonObject step, Dictionary<string, string> variables)
    {
        JsonArray? items = step["withItems"] as JsonArray;
        if (step["withParam"]?.ToString() is { } param)
        {
            var text = Expressions.Substitute(param, variables);
            try
            {
                items = JsonNode.Parse(text) as JsonArray ?? throw new JsonException("not a JSON list");
            }
            catch (JsonException e)
            {
                throw new InvalidOperationException($"withParam '{text}' is not a JSON list: {e.Message}", e);
            }
        }

        if (items is null)
        {
            yield return ("", new Dictionary<string, string>(StringComparer.Ordinal));
            yield break;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var itemVariables = new Dictionary<string, string>(StringComparer.Ordinal) { ["item"] = Text(item) };
            if (item is JsonObject fields)
            {
                foreach (var (key, value) in fields)
                {
                    itemVariables[$"item.{key}"] = Text(value);
                }
            }

            yield return ($"({i}:{Text(item)})", itemVariables);
        }
    }

    // Argo aggregates a loop's results as a JSON list, each result parsed as JSON when it is JSON.
    private static string Aggregate(IEnumerable<string?> results) =>
        new JsonArray([.. results.Select(r =>
        {
            try
            {
                return JsonNode.Parse(r ?? "") is { } parsed ? parsed : JsonValue.Create(r);
            }
            catch (JsonException)
            {
                return JsonValue.Create(r);
            }
        })]).ToJsonString();

    private static string Depends(JsonObject task) =>
        task["depends"]?.ToString() is { Length: > 0 } depends
            ? depends
            : string.Join(" && ", (task["dependencies"] as JsonArray ?? []).Select(d => d?.ToString()).OfType<string>());

    private static bool Satisfies(string term, Dictionary<string, NodeResult> outcomes)
    {
        var parts = term.Split('.', 2);
        var phase = outcomes.GetValueOrDefault(parts[0])?.Phase;
        return (parts.Length == 1 ? "" : parts[1]) switch
        {
            "" => phase is "Succeeded" or "Skipped" or "Omitted",
            "Succeeded" => phase == "Succeeded",
            "Failed" => phase == "Failed",
            "Errored" => phase == "Error",
            "Skipped" => phase == "Skipped",
            "Omitted" => phase == "Omitted",
            "Completed" => phase is "Succeeded" or "Failed",
            "AnySucceeded" => phase == "Succeeded",
            "AllFailed" => phase is "Failed" or "Error",
            "Daemoned" => false,
            var other => throw new FormatException($"unknown task result '{other}' in '{term}'"),
        };
    }

    private static void Remember(Dictionary<string, string> variables, string kind, string name, NodeResult result)
    {
        variables[$"{kind}.{name}.status"] = result.Phase;
        variables[$"{kind}.{name}.id"] = result.Id;
        if (result.Result is { } output)
        {
            variables[$"{kind}.{name}.outputs.result"] = output;
        }
    }

    private static Scope WithDeadline(Scope scope, TimeSpan after, string message)
    {
        // The linked source lives as long as the run; it is small and its timer is cancelled when it fires.
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(scope.Token);
        var expired = false;
        _ = Task.Delay(after, deadline.Token).ContinueWith(
            _ =>
            {
                expired = true;
                deadline.Cancel();
            },
            CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        return new Scope(() => expired ? message : scope.Reason(), deadline.Token);
    }

    private string Failures()
    {
        lock (_lock)
        {
            return new JsonArray([.. _nodes.Values.Where(n => n["phase"]?.ToString() is "Failed" or "Error" && n["type"]?.ToString() == "Pod").Select(n => (JsonNode)new JsonObject
            {
                ["displayName"] = n["displayName"]?.DeepClone(),
                ["message"] = n["message"]?.DeepClone(),
                ["templateName"] = n["templateName"]?.DeepClone(),
                ["phase"] = n["phase"]?.DeepClone(),
                ["podName"] = n["id"]?.DeepClone(),
                ["finishedAt"] = n["finishedAt"]?.DeepClone(),
            })]).ToJsonString();
        }
    }

    private NodeResult Leaf(string nodeName, string displayName, string? parentId, string? templateName, string type, string phase, string message)
    {
        var id = StartNode(nodeName, displayName, parentId, templateName, type, phase);
        return Finish(id, phase, message, null);
    }

    private string StartNode(string nodeName, string displayName, string? parentId, string? templateName, string type, string phase = "Running")
    {
        var id = ArgoNames.NodeId(_name, nodeName);
        var node = new JsonObject
        {
            ["id"] = id,
            ["name"] = nodeName,
            ["displayName"] = displayName,
            ["type"] = type,
            ["templateName"] = templateName,
            ["phase"] = phase,
            ["startedAt"] = ArgoNames.Timestamp(DateTimeOffset.UtcNow),
            ["finishedAt"] = null,
        };
        lock (_lock)
        {
            _nodes[id] = node;
            if (parentId is not null && _nodes.TryGetValue(parentId, out var parent))
            {
                var children = parent["children"] as JsonArray ?? [];
                parent["children"] = children;
                children.Add(id);
            }
        }

        Publish();
        return id;
    }

    private NodeResult Finish(string id, string phase, string? message, string? result)
    {
        FinishNode(id, phase, message, result);
        return new NodeResult(phase, message, result, id);
    }

    private void FinishNode(string id, string phase, string? message, string? result)
    {
        Update(id, node =>
        {
            node["phase"] = phase;
            node["finishedAt"] = ArgoNames.Timestamp(DateTimeOffset.UtcNow);
            if (message is not null)
            {
                node["message"] = message;
            }

            if (result is not null && node["outputs"] is null)
            {
                node["outputs"] = new JsonObject { ["result"] = result };
            }
        });
    }

    private void Update(string id, Action<JsonObject> change)
    {
        lock (_lock)
        {
            change(_nodes[id]);
        }

        Publish();
    }

    private void Publish()
    {
        JsonObject nodes;
        string progress;
        lock (_lock)
        {
            nodes = new JsonObject(_nodes.Select(n => KeyValuePair.Create(n.Key, (JsonNode?)n.Value.DeepClone())));
            var pods = _nodes.Values.Where(n => n["type"]?.ToString() == "Pod").ToList();
            progress = $"{pods.Count(p => p["phase"]?.ToString() == "Succeeded")}/{pods.Count}";
        }

        TryUpdate(w =>
        {
            var status = w["status"] as JsonObject ?? [];
            w["status"] = status;
            status["nodes"] = nodes;
            status["progress"] = progress;
        });
    }

    private bool TryUpdate(Action<JsonObject> change)
    {
        if (_deleted)
        {
            return false;
        }

        try
        {
            _host.UpdateWorkflow(_ns, _name, change);
            return true;
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            Abandon();
            return false;
        }
    }

    /// <summary>Argo's phase change (operator.go markWorkflowPhase): status, the phase and completed labels, timestamps.</summary>
    internal static void SetPhase(JsonObject workflow, string phase, string? message, DateTimeOffset now)
    {
        var metadata = (JsonObject)workflow["metadata"]!;
        var labels = metadata["labels"] as JsonObject ?? [];
        metadata["labels"] = labels;
        var status = workflow["status"] as JsonObject ?? [];
        workflow["status"] = status;
        status["phase"] = phase;
        labels[ArgoNames.PhaseLabel] = phase;
        labels[ArgoNames.CompletedLabel] = ArgoNames.IsFinal(phase) ? "true" : "false";
        if (message is not null)
        {
            status["message"] = message;
        }

        if (phase != "Pending" && status["startedAt"] is null)
        {
            status["startedAt"] = ArgoNames.Timestamp(now);
        }

        if (ArgoNames.IsFinal(phase))
        {
            status["finishedAt"] = ArgoNames.Timestamp(now);
            status["conditions"] = new JsonArray(new JsonObject { ["type"] = "Completed", ["status"] = "True" });
        }
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };

    private static int? Seconds(JsonNode? node) =>
        int.TryParse(Text(node), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
}
