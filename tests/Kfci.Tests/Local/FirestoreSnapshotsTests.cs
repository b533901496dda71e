using Kfci.Cli.Local;
using Kfci.Testing;

namespace Kfci.Tests.Local;

/// <summary>The local stack's saved Firestore state, made by the real emulator's export and read back by its import.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class FirestoreSnapshotsTests(EmulatorFixture emulators) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("kfci-snapshots-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task ExportAsync_RealEmulator_SealedExportTheEmulatorImports()
    {
        var project = EmulatorFixture.NewProjectId("snap");
        await WriteDocumentAsync(project, "runs", "r1");
        var snapshots = new FirestoreSnapshots(_home);

        var snapshot = await snapshots.ExportAsync(emulators.Firestore.BaseAddress, project, CancellationToken.None);

        Assert.True(File.Exists(snapshot.MetadataFile));
        Assert.Equal(snapshot.Directory, Assert.Single(snapshots.Good(TextWriter.Null)).Directory);
        await using var restored = await Kfci.Local.Emulator.StartAsync(
            Kfci.Local.EmulatorKind.Firestore, Path.Combine(_home, "logs"), extraArguments: [$"--import-data={snapshot.MetadataFile}"]);
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(restored.BaseAddress, $"v1/projects/{project}/databases/(default)/documents/runs/r1"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Good_TamperedAndUnfinishedExports_SetAsideWithAWarning_OlderGoodOneUsed()
    {
        var project = EmulatorFixture.NewProjectId("snap");
        await WriteDocumentAsync(project, "runs", "r1");
        var snapshots = new FirestoreSnapshots(_home);
        var older = await snapshots.ExportAsync(emulators.Firestore.BaseAddress, project, CancellationToken.None);
        var newer = await snapshots.ExportAsync(emulators.Firestore.BaseAddress, project, CancellationToken.None);
        var data = Directory.EnumerateFiles(newer.Directory, "output-*", SearchOption.AllDirectories).First();
        File.WriteAllText(data, "garbage");
        var unfinished = Path.Combine(snapshots.Directory, "exports", "99990101T000000.0000000Z-1");
        Directory.CreateDirectory(unfinished);

        var warnings = new StringWriter();
        var good = snapshots.Good(warnings).ToList();

        Assert.Equal(older.Directory, Assert.Single(good).Directory);
        var lines = warnings.ToString().Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, l => l.Contains("no manifest", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("does not match its checksum", StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(snapshots.Directory, "corrupt", Path.GetFileName(newer.Directory))));
    }

    [Fact]
    public async Task Good_UnfinishedExportOlderThanASealedOne_RemovedWithoutAWarning()
    {
        var project = EmulatorFixture.NewProjectId("snap");
        await WriteDocumentAsync(project, "runs", "r1");
        var snapshots = new FirestoreSnapshots(_home);
        var superseded = Path.Combine(snapshots.Directory, "exports", "00010101T000000.0000000Z-1");
        Directory.CreateDirectory(superseded);
        var sealedExport = await snapshots.ExportAsync(emulators.Firestore.BaseAddress, project, CancellationToken.None);

        var warnings = new StringWriter();
        var good = snapshots.Good(warnings).ToList();

        Assert.Equal(sealedExport.Directory, Assert.Single(good).Directory);
        Assert.Empty(warnings.ToString());
        Assert.False(Directory.Exists(superseded));
    }

    [Fact]
    public async Task ExportAsync_ManyExports_KeepsTheNewestFew()
    {
        var project = EmulatorFixture.NewProjectId("snap");
        var snapshots = new FirestoreSnapshots(_home);
        for (var i = 0; i < FirestoreSnapshots.Kept + 2; i++)
        {
            await snapshots.ExportAsync(emulators.Firestore.BaseAddress, project, CancellationToken.None);
        }

        Assert.Equal(FirestoreSnapshots.Kept, Directory.GetDirectories(Path.Combine(snapshots.Directory, "exports")).Length);
    }

    [Fact]
    public async Task ExportAsync_NoEmulator_FailsWithoutLeavingAnExport()
    {
        var snapshots = new FirestoreSnapshots(_home);
        var closed = new Uri($"http://127.0.0.1:{Kfci.Local.Emulator.FreeLoopbackPort()}/");

        await Assert.ThrowsAsync<HttpRequestException>(() => snapshots.ExportAsync(closed, "p", CancellationToken.None));
        Assert.Null(snapshots.Newest());
    }

    private async Task WriteDocumentAsync(string project, string collection, string id)
    {
        using var http = new HttpClient();
        using var content = new StringContent("""{"fields":{"a":{"stringValue":"x"}}}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(
            new Uri(emulators.Firestore.BaseAddress, $"v1/projects/{project}/databases/(default)/documents/{collection}?documentId={id}"), content);
        response.EnsureSuccessStatusCode();
    }
}
