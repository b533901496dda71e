using System.CommandLine;
using System.Globalization;
using Kfci.Cli.CommandLine;
using Kfci.Configuration;
using Kfci.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Cli.Commands;

/// <summary>
/// <c>kfci dashboard</c>: the web dashboard over the local stack (or a project), served on 127.0.0.1 until interrupted,
/// reading with the same adapters as the functions.
/// </summary>
public sealed class DashboardCommand(Func<string, string?>? environment = null)
{
    public const int DefaultPort = 8787;

    /// <summary>The dashboard's address for a run: what the main job prints when a run finishes.</summary>
    public static string RunUrl(string runId, int port = DefaultPort) =>
        string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/runs/{Uri.EscapeDataString(runId)}");

    public Command Create()
    {
        var project = new Option<string>("--project") { Description = "The project whose runs to show (default: KFCI_PROJECT, else the local stack in KFCI_HOME)." };
        var port = new Option<string>("--port") { Description = $"Port on 127.0.0.1 (default {DefaultPort}; 0 picks a free one)." };
        var command = new Command("dashboard", "Serve the web dashboard (runs, a run, job history grid, flakiness, janitor) on 127.0.0.1 and print its URL.") { project, port };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var portText = parse.GetValue(port);
            if (!int.TryParse(portText ?? DefaultPort.ToString(CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > 65535)
            {
                throw new CliException($"--port must be a number from 0 to 65535, not '{portText}'");
            }

            using var context = CliContext.Resolve(parse.GetValue(project), environment);
            await using var app = Build(context.GetEnv, number);
            await app.StartAsync(cancellationToken);
            var url = app.Urls.First();
            await parse.InvocationConfiguration.Output.WriteLineAsync($"kfci dashboard of {context.Description}: {url}/ (Ctrl-C stops it)");
            await app.WaitForShutdownAsync(cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The dashboard on loopback only: it shows logs and test output and has no login of its own.</summary>
    /// <param name="configure">Runs last on the builder (tests serve it in memory with <c>UseTestServer</c>).</param>
    public static WebApplication Build(Func<string, string?> getEnv, int port, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        configure?.Invoke(builder);
        builder.Services.AddKfciAdapters(getEnv);
        builder.Services.AddKfciDashboard(new DashboardSettings(getEnv));
        var app = builder.Build();
        app.UseKfciDashboardErrors();
        app.MapKfciDashboard();
        return app;
    }
}
