namespace Kfci.Firestore;

/// <summary>
/// A <c>referenceValue</c>: the full resource name of a document,
/// <c>projects/{project}/databases/{database}/documents/{path}</c>.
/// </summary>
public sealed record DocumentReference(string Name)
{
    /// <summary>The last path segment: the document's id within its collection.</summary>
    public string Id => Name[(Name.LastIndexOf('/') + 1)..];

    public override string ToString() => Name;
}

/// <summary>A <c>geoPointValue</c>, in degrees.</summary>
public readonly record struct GeoPoint(double Latitude, double Longitude);
