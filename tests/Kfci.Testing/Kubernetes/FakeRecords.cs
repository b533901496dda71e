using System.Text.Json.Nodes;

namespace Kfci.Testing.Kubernetes;

/// <summary>One request the fake received, in arrival order.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string? Authorization, string? ClientCertificateSubject, DateTimeOffset ReceivedAt);

/// <summary>A server-side change: <c>ADDED</c>, <c>MODIFIED</c> or <c>DELETED</c>, and the object after it.</summary>
public sealed record FakeChange(string Type, JsonObject Resource);
