using System.Diagnostics.CodeAnalysis;

namespace OptEq.Autodiff.Checkpoints;

/// <summary>The contents of a safetensors file: named tensors in file order, plus string metadata.</summary>
public sealed class SafetensorsFile
{
    private readonly List<SafetensorsTensor> _tensors = [];
    private readonly Dictionary<string, SafetensorsTensor> _byName = new(StringComparer.Ordinal);

    /// <param name="source">Where it came from, for messages: the path it was read from.</param>
    public SafetensorsFile(string source = "(in memory)") => Source = source;

    public string Source { get; }
    /// <summary>The "__metadata__" object: string keys to string values.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
    /// <summary>In insertion order, which is the order of the data in the file.</summary>
    public IReadOnlyList<SafetensorsTensor> Tensors => _tensors;

    public void Add(SafetensorsTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_byName.TryAdd(tensor.Name, tensor)) throw new ArgumentException($"{Source}: duplicate tensor name '{tensor.Name}'");
        _tensors.Add(tensor);
    }

    public SafetensorsTensor Add<T>(string name, ReadOnlySpan<T> values, params int[] shape) where T : unmanaged
    {
        var tensor = SafetensorsTensor.FromValues(name, values, shape);
        Add(tensor);
        return tensor;
    }

    public bool TryGet(string name, [MaybeNullWhen(false)] out SafetensorsTensor tensor) => _byName.TryGetValue(name, out tensor);

    public SafetensorsTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Source}: no tensor '{name}'");
}
