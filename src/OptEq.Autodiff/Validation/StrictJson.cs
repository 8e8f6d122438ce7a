using System.Text.Json;

namespace OptEq.Autodiff.Validation;

/// <summary>
/// Strict reading of a JSON document against its canonical form (the typed object read from it and written back):
/// every key the canonical form has must be present (no silent defaults for a missing or misspelt key), no key may
/// appear that it lacks, and no value may be null. Keys compare without regard to case, as the reader does.
/// </summary>
public static class StrictJson
{
    /// <summary>The first problem found, as "missing key 'spec.layers[0].gamma'", or null when the document is complete.</summary>
    /// <param name="optional">
    /// Keys that may be absent (files written before they existed still load), as paths: "spec" (top level), "conv.headTiers",
    /// "spec.layers[].headTiers" ("[]" for any array index).
    /// </param>
    public static string? Problem(string json, string canonical, params string[] optional)
    {
        if (NullValue(json) is string nullPath) return $"'{nullPath}' is null";
        using var given = JsonDocument.Parse(json);
        using var expected = JsonDocument.Parse(canonical);
        return Compare(given.RootElement, expected.RootElement, "", optional);
    }

    /// <summary>The path of the first null value in <paramref name="json"/>, checked before the typed reader sees it.</summary>
    public static string? NullValue(string json)
    {
        using var document = JsonDocument.Parse(json);
        return FindNull(document.RootElement, "");
    }

    private static string? FindNull(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Null: return path.Length == 0 ? "(the document)" : path;
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                    if (FindNull(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}") is string found) return found;
                return null;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in element.EnumerateArray())
                    if (FindNull(item, $"{path}[{i++}]") is string found) return found;
                return null;
            default: return null;
        }
    }

    private static readonly System.Text.RegularExpressions.Regex AnyIndex = new(@"\[\d+\]", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static string? Compare(JsonElement given, JsonElement expected, string path, string[] optional)
    {
        if (given.ValueKind == JsonValueKind.Null && expected.ValueKind != JsonValueKind.Null) return $"'{path}' is null";
        if (given.ValueKind == JsonValueKind.Object && expected.ValueKind == JsonValueKind.Object)
        {
            var keys = given.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase);
            var known = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in expected.EnumerateObject())
            {
                known.Add(property.Name);
                string child = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (!keys.TryGetValue(property.Name, out var value))
                {
                    if (optional.Contains(AnyIndex.Replace(child, "[]"), StringComparer.OrdinalIgnoreCase)) continue;
                    return $"missing key '{child}'";
                }
                if (Compare(value, property.Value, child, optional) is string problem) return problem;
            }
            foreach (var name in keys.Keys)
                if (!known.Contains(name)) return $"unknown key '{(path.Length == 0 ? name : $"{path}.{name}")}'";
        }
        else if (given.ValueKind == JsonValueKind.Array && expected.ValueKind == JsonValueKind.Array && given.GetArrayLength() == expected.GetArrayLength())
        {
            int i = 0;
            foreach (var (g, e) in given.EnumerateArray().Zip(expected.EnumerateArray()))
                if (Compare(g, e, $"{path}[{i++}]", optional) is string problem) return problem;
        }
        return null;
    }
}

/// <summary>Field-by-field differences of two JSON documents, for messages ("activation: tanh vs relu").</summary>
public static class JsonDifferences
{
    /// <summary>Each leaf that differs, as "path: left vs right"; keys listed in <paramref name="ignore"/> (top level) are skipped.</summary>
    public static List<string> Of(string left, string right, string leftName, string rightName, params string[] ignore)
    {
        using var a = JsonDocument.Parse(left);
        using var b = JsonDocument.Parse(right);
        var found = new List<string>();
        Walk(a.RootElement, b.RootElement, "", found, leftName, rightName, ignore);
        return found;
    }

    private static void Walk(JsonElement a, JsonElement b, string path, List<string> found, string leftName, string rightName, string[] ignore)
    {
        if (a.ValueKind == JsonValueKind.Object && b.ValueKind == JsonValueKind.Object)
        {
            var right = b.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase);
            foreach (var p in a.EnumerateObject())
            {
                if (path.Length == 0 && ignore.Contains(p.Name, StringComparer.OrdinalIgnoreCase)) continue;
                string child = path.Length == 0 ? p.Name : $"{path}.{p.Name}";
                if (right.Remove(p.Name, out var other)) Walk(p.Value, other, child, found, leftName, rightName, ignore);
                else found.Add($"{child}: {p.Value.GetRawText()} in {leftName}, absent in {rightName}");
            }
            foreach (var (name, value) in right)
                if (!(path.Length == 0 && ignore.Contains(name, StringComparer.OrdinalIgnoreCase)))
                    found.Add($"{(path.Length == 0 ? name : $"{path}.{name}")}: absent in {leftName}, {value.GetRawText()} in {rightName}");
        }
        else if (a.ValueKind == JsonValueKind.Array && b.ValueKind == JsonValueKind.Array && a.GetArrayLength() == b.GetArrayLength())
        {
            int i = 0;
            foreach (var (x, y) in a.EnumerateArray().Zip(b.EnumerateArray())) Walk(x, y, $"{path}[{i++}]", found, leftName, rightName, ignore);
        }
        else if (a.GetRawText() != b.GetRawText())
            found.Add($"{path}: {a.GetRawText()} in {leftName}, {b.GetRawText()} in {rightName}");
    }
}
