using Kfci.Configuration;
using Kfci.Dashboard;

// The dashboard as its own Cloud Run service: read-only adapters over the same Firestore and results bucket as the functions.
var builder = WebApplication.CreateBuilder(args);
if (Environment.GetEnvironmentVariable("PORT") is { Length: > 0 } port)
{
    builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
}

builder.Services.AddKfciAdapters();
builder.Services.AddKfciDashboard();
var app = builder.Build();
app.UseKfciDashboardErrors();
app.MapKfciDashboard();
await app.RunAsync();
