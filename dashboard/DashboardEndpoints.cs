using System.Text;
using Kfci.Dashboard.Data;
using Kfci.Dashboard.Model;
using Kfci.Dashboard.Pages;
using Kfci.Http;
using Kfci.Runs;
using Kfci.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Kfci.Dashboard;

/// <summary>What the dashboard needs besides the stores: how to find a run's results directory.</summary>
/// <param name="GetEnv">The environment the results layout and local results directory are read from.</param>
public sealed record DashboardSettings(Func<string, string?> GetEnv);

/// <summary>The dashboard's pages: every one a stable URL (paste it into a PR or chat), rendered on the server.</summary>
public static class DashboardEndpoints
{
    private const string Security = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Registers the readers the pages use, over the adapters <c>AddKfciAdapters</c> registers.</summary>
    public static IServiceCollection AddKfciDashboard(this IServiceCollection services, DashboardSettings? settings = null)
    {
        services.TryAddSingleton(settings ?? new DashboardSettings(Environment.GetEnvironmentVariable));
        services.TryAddSingleton<ISweepHistory>(sp => new FirestoreSweepHistory(sp.GetRequiredService<Kfci.Firestore.FirestoreClient>()));
        return services;
    }

    public static IEndpointRouteBuilder MapKfciDashboard(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/assets/dashboard.css", () => Results.Text(Assets.Css, "text/css; charset=utf-8"));
        app.MapGet("/assets/dashboard.js", () => Results.Text(Assets.Js, "text/javascript; charset=utf-8"));
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/", RunsAsync);
        app.MapGet("/runs/{runId}", RunAsync);
        app.MapGet("/runs/{runId}/log", BuildLogAsync);
        app.MapGet("/runs/{runId}/file", FileAsync);
        app.MapGet("/jobs/{job}", JobAsync);
        app.MapGet("/flaky", FlakyAsync);
        app.MapGet("/test", TestAsync);
        app.MapGet("/janitor", JanitorAsync);
        return app;
    }

    /// <summary>Security headers on every answer, and a store outage as a 503 page instead of a stack trace.</summary>
    public static IApplicationBuilder UseKfciDashboardErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.Headers.ContentSecurityPolicy = Security;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Referrer-Policy"] = "same-origin";
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && Transience.IsTransient(e, context.RequestAborted))
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Kfci.Dashboard").LogWarning(e, "Dashboard read failed: {Path}", context.Request.Path.Value);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(Html.Page("Unavailable", $"<p>Firestore or the results store did not answer: {Html.E(e.Message)}. Try again in a moment.</p>"));
        }
    });

    private static async Task<IResult> RunsAsync(HttpContext http, IRunStore runs, TimeProvider time, string? job, string? repo, string? state)
    {
        var query = new RunQuery(Blank(job), RunStates.TryParse(state, out var parsed) ? parsed : null, DashboardLimits.RunsPerPage) { Repo = Blank(repo) };
        var list = await runs.ListAsync(query, http.RequestAborted);
        return Page("Runs", RunsPage.Render(list, query, time.GetUtcNow()), live: true);
    }

    private static async Task<IResult> RunAsync(HttpContext http, IRunStore runs, ITestSummaryStore tests, IResultsStore store, TimeProvider time, string runId)
    {
        if (await runs.GetAsync(runId, http.RequestAborted) is not { } run)
        {
            return NotFound($"No run {runId}.");
        }

        var summaries = await tests.ForRunAsync(runId, http.RequestAborted);
        return Page($"Run {run.JobName} #{run.BuildId}", RunPage.Render(run, summaries, time.GetUtcNow(), inCloudConsole: store is not LocalDirectoryResultsStore), live: !run.State.IsTerminal());
    }

    private static async Task<IResult> BuildLogAsync(HttpContext http, IRunStore runs, IResultsStore store, DashboardSettings settings, string runId)
    {
        if (await runs.GetAsync(runId, http.RequestAborted) is not { } run)
        {
            return NotFound($"No run {runId}.");
        }

        var prefix = RunResultsLocation.PrefixOf(run, settings.GetEnv);

        // kfci's own builds have build-log.txt; in a build Prow's pod owns, kfci's log sits under artifacts/.
        foreach (var name in new[] { "build-log.txt", "artifacts/kfci-build-log.txt" })
        {
            if (await store.OpenReadAsync($"{prefix}/{name}", http.RequestAborted) is { } log)
            {
                return Text(log);
            }
        }

        return NotFound($"No build log for run {runId} yet (state {run.State.ToWire()}): the Uploader writes it when the run completes.");
    }

    /// <summary>A file of the run's results directory, as plain text (never rendered as HTML: a step wrote it).</summary>
    private static async Task<IResult> FileAsync(HttpContext http, IRunStore runs, IResultsStore store, DashboardSettings settings, string runId, string? path)
    {
        if (path is null || path.Length > 1024 || path.StartsWith('/') || path.Split('/').Any(s => s is "" or "." or ".."))
        {
            return Results.BadRequest("path must be a relative path inside the run's results directory");
        }

        if (await runs.GetAsync(runId, http.RequestAborted) is not { } run)
        {
            return NotFound($"No run {runId}.");
        }

        var stream = await store.OpenReadAsync($"{RunResultsLocation.PrefixOf(run, settings.GetEnv)}/{path}", http.RequestAborted);
        return stream is null ? NotFound($"No {path} in the results of run {runId}.") : Text(stream);
    }

    private static async Task<IResult> JobAsync(HttpContext http, IRunStore runs, ITestSummaryStore tests, string job, int? builds)
    {
        var count = Math.Clamp(builds ?? DashboardLimits.DefaultBuilds, 1, DashboardLimits.MaxBuilds);
        var list = await runs.ListAsync(new RunQuery(job, null, count), http.RequestAborted);
        if (list.Count == 0)
        {
            return Page($"Job {job}", JobPage.Render(job, JobGrid.Build(list, []), truncated: false), live: true);
        }

        var window = await tests.ResultsSinceAsync(job, list.Min(r => r.CreatedAt), DashboardLimits.MaxColumns, DashboardLimits.MaxCases, http.RequestAborted);
        var summaries = window.Summaries.Concat(await SummariesWithoutColumnsAsync(tests, list, window, http.RequestAborted)).ToList();
        return Page($"Job {job}", JobPage.Render(job, JobGrid.Build(list, summaries), window.Truncated), live: true);
    }

    /// <summary>
    /// The full summaries of finished builds that have no compact column (uploaded before columns were written), a few
    /// builds at most, so the grid of a job upgraded in place is not blank on its left.
    /// </summary>
    private static async Task<IEnumerable<WorkflowTestSummary>> SummariesWithoutColumnsAsync(ITestSummaryStore tests, IReadOnlyList<RunRecord> runs, TestResultsWindow window, CancellationToken cancellationToken)
    {
        if (window.Truncated)
        {
            return [];
        }

        var withColumns = window.Summaries.Select(s => s.RunId).ToHashSet(StringComparer.Ordinal);
        var missing = runs.Where(r => r.State == RunState.Finished && r.Workflows.Count > 0 && !withColumns.Contains(r.RunId)).Take(DashboardLimits.MaxFallbackRuns);
        var read = await Task.WhenAll(missing.Select(r => tests.ForRunAsync(r.RunId, cancellationToken)));
        return read.SelectMany(s => s);
    }

    private static async Task<IResult> FlakyAsync(HttpContext http, ITestSummaryStore tests, TimeProvider time, string? job, int? days)
    {
        var window = Math.Clamp(days ?? DashboardLimits.DefaultWindowDays, 1, DashboardLimits.MaxWindowDays);
        var results = await tests.ResultsSinceAsync(Blank(job), time.GetUtcNow().AddDays(-window), DashboardLimits.MaxColumns, DashboardLimits.MaxCases, http.RequestAborted);
        return Page("Flakiness", FlakinessPage.Render(Blank(job), window, results.Summaries, results.Truncated));
    }

    private static async Task<IResult> TestAsync(HttpContext http, ITestSummaryStore tests, TimeProvider time, string? job, string? workflow, string? name, int? days)
    {
        if (Blank(job) is not { } j || workflow is null || name is null)
        {
            return Results.BadRequest("a test page needs job, workflow and name");
        }

        var window = Math.Clamp(days ?? DashboardLimits.DefaultWindowDays, 1, DashboardLimits.MaxWindowDays);
        var summaries = await tests.SinceAsync(j, time.GetUtcNow().AddDays(-window), DashboardLimits.MaxSummaryDocuments, http.RequestAborted);
        return Page($"Test {name}", TestPage.Render(j, workflow, name, summaries));
    }

    private static async Task<IResult> JanitorAsync(HttpContext http, ISweepHistory sweeps) =>
        Page("Janitor", JanitorPage.Render(await sweeps.LatestAsync(DashboardLimits.Sweeps, http.RequestAborted)));

    private static IResult Page(string title, string body, bool live = false) =>
        Results.Content(Html.Page(title, body, live), "text/html; charset=utf-8", Encoding.UTF8);

    private static IResult NotFound(string message) =>
        Results.Content(Html.Page("Not found", $"<p>{Html.E(message)}</p>"), "text/html; charset=utf-8", Encoding.UTF8, StatusCodes.Status404NotFound);

    private static IResult Text(Stream content) =>
        Results.Stream(new Kfci.IO.BoundedReadStream(content, DashboardLimits.MaxLogBytes), "text/plain; charset=utf-8");

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
