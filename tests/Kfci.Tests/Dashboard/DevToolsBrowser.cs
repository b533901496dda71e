using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kfci.Tests.Dashboard;

/// <summary>
/// Headless chromium driven over the Chrome DevTools protocol (its <c>--remote-debugging-port</c> websocket): one page
/// that stays open, so a test can watch it change without reloading. Every wait is bounded.
/// </summary>
internal sealed partial class DevToolsBrowser : IAsyncDisposable
{
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly ClientWebSocket _socket;
    private readonly string _profile;
    private string? _session;
    private int _nextId;

    private DevToolsBrowser(Process process, ClientWebSocket socket, string profile)
    {
        _process = process;
        _socket = socket;
        _profile = profile;
    }

    /// <summary>Starts chromium on an ephemeral debugging port and connects to its browser endpoint.</summary>
    public static async Task<DevToolsBrowser> StartAsync(string chromium)
    {
        var profile = Directory.CreateTempSubdirectory("kfci-chromium-").FullName;
        var start = new ProcessStartInfo(chromium) { RedirectStandardError = true, RedirectStandardOutput = true };

        // No sandbox: the tests may run as root in a container, where chromium's sandbox cannot start.
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}", "--window-size=1280,900", "about:blank" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        try
        {
            // Chromium announces the endpoint on stderr: "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID".
            using var timeout = new CancellationTokenSource(s_commandTimeout);
            Uri? endpoint = null;
            while (endpoint is null && await process.StandardError.ReadLineAsync(timeout.Token) is { } line)
            {
                var match = ListeningPattern().Match(line);
                endpoint = match.Success ? new Uri(match.Groups[1].Value) : null;
            }

            Assert.True(endpoint is not null, "chromium exited without announcing its DevTools endpoint");
            _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
            _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(endpoint, timeout.Token);
            return new DevToolsBrowser(process, socket, profile);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Opens <paramref name="url"/> in a new tab and attaches to it; later commands go to that tab.</summary>
    public async Task OpenAsync(string url)
    {
        var target = await SendAsync("Target.createTarget", new JsonObject { ["url"] = url }, toPage: false);
        var attached = await SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true }, toPage: false);
        _session = attached["sessionId"]!.GetValue<string>();
    }

    /// <summary>The value of a JavaScript expression in the page (JSON-serialisable values only).</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        Assert.True(result["exceptionDetails"] is null, $"{expression} threw: {result["exceptionDetails"]?.ToJsonString()}");
        return result["result"]?["value"];
    }

    /// <summary>Evaluates <paramref name="condition"/> every 200 ms until it is true; false if <paramref name="within"/> passes first.</summary>
    public async Task<bool> WaitForAsync(string condition, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            if (await EvaluateAsync(condition) is JsonValue value && value.TryGetValue<bool>(out var done) && done)
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }

    public async Task ScreenshotAsync(string path)
    {
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot["data"]!.GetValue<string>()));
    }

    /// <summary>Sends one command and reads until its answer, skipping the events the browser sends meanwhile.</summary>
    private async Task<JsonNode> SendAsync(string method, JsonObject parameters, bool toPage = true)
    {
        using var timeout = new CancellationTokenSource(s_commandTimeout);
        var id = ++_nextId;
        var command = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        if (toPage)
        {
            Assert.True(_session is not null, "no page is open: call OpenAsync first");
            command["sessionId"] = _session;
        }

        await _socket.SendAsync(Encoding.UTF8.GetBytes(command.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        while (true)
        {
            var message = JsonNode.Parse(await ReceiveAsync(timeout.Token))!;
            if (message["id"]?.GetValue<int>() != id)
            {
                continue;
            }

            Assert.True(message["error"] is null, $"{method}: {message["error"]?.ToJsonString()}");
            return message["result"]!;
        }
    }

    private async Task<string> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult received;
        do
        {
            received = await _socket.ReceiveAsync(buffer, cancellationToken);
            Assert.True(received.MessageType != WebSocketMessageType.Close, "chromium closed the DevTools connection");
            message.Write(buffer, 0, received.Count);
        }
        while (!received.EndOfMessage);

        return Encoding.UTF8.GetString(message.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The browser is killed next either way.
        }

        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_profile, recursive: true);
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex ListeningPattern();
}
