using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Checkpoints;

/// <summary>
/// A training checkpoint stored as a safetensors file: the model configuration with its spec (JSON), the training state (epoch,
/// step, RNG seeds) in the metadata, and named tensors in groups: <c>model.&lt;parameter name&gt;</c> for parameters,
/// <c>optimizer.&lt;name&gt;</c> for optimizer state. Restoring checks a whole group against what the model expects
/// (names, shapes, dtypes) before copying anything, so the checkpoint of another model is a clear error, never a
/// half-loaded model.
/// </summary>
public sealed class Checkpoint
{
    public const string FormatKey = "opteq.format";
    public const string FormatVersion = "1";
    public const string ConfigKey = "opteq.config";
    public const string EpochKey = "opteq.epoch";
    public const string StepKey = "opteq.step";
    public const string SeedKeyPrefix = "opteq.seed.";
    /// <summary>The training options, data fingerprint, best accuracy and metrics history (JSON; see Training.TrainingRecord).</summary>
    public const string TrainingKey = "opteq.training";
    /// <summary>Metadata keys starting with this belong to the checkpoint format; <see cref="Metadata"/> may not use them.</summary>
    public const string ReservedPrefix = "opteq.";

    public const string ParametersGroup = "model";
    public const string OptimizerGroup = "optimizer";

    private readonly SafetensorsFile _tensors;
    private string _config;

    /// <param name="config">The model configuration as a JSON document.</param>
    public Checkpoint(string config = "{}") : this(new SafetensorsFile(), config) { }

    private Checkpoint(SafetensorsFile tensors, string config)
    {
        _tensors = tensors;
        _config = CheckConfig(config);
    }

    /// <summary>The file it was loaded from, or "(in memory)"; used in messages.</summary>
    public string Source => _tensors.Source;

    /// <summary>The model configuration: a JSON document, checked when set.</summary>
    public string Config
    {
        get => _config;
        set => _config = CheckConfig(value);
    }

    public long Epoch { get; set; }
    public long Step { get; set; }
    /// <summary>The training record as JSON (<see cref="TrainingKey"/>); null in a checkpoint without one.</summary>
    public string? Training { get; set; }
    /// <summary>RNG seeds by purpose (e.g. "data", "init"), stored as <c>opteq.seed.&lt;name&gt;</c>.</summary>
    public Dictionary<string, long> Seeds { get; } = new(StringComparer.Ordinal);
    /// <summary>Further string metadata; keys must not start with <see cref="ReservedPrefix"/>.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
    public IReadOnlyList<SafetensorsTensor> Tensors => _tensors.Tensors;

    // ---- tensors -------------------------------------------------------------------------------------------------

    /// <summary>Copies the parameters' values to the host, as <c>model.&lt;name&gt;</c>, in the given order.</summary>
    public void AddParameters<T>(IEnumerable<Parameter<T>> parameters, string group = ParametersGroup)
        where T : unmanaged, IFloatingPointIeee754<T>
        => AddGroup(group, parameters.Select(p => (p.Name, p.Value)));

    /// <summary>Copies device tensors to the host under <c>group.name</c> (e.g. optimizer moments).</summary>
    public void AddGroup<T>(string group, IEnumerable<(string Name, Tensor<T> Value)> tensors) where T : unmanaged
    {
        CheckGroup(group);
        foreach (var (name, value) in tensors)
            _tensors.Add(SafetensorsTensor.FromValues<T>(FullName(group, name), value.ToArray(), value.Shape));
    }

    /// <summary>
    /// Copies the checkpoint's <c>model.*</c> tensors into the parameters. The names, shapes and dtypes must match
    /// exactly, with nothing missing and nothing extra; otherwise nothing is copied and the error lists every difference.
    /// </summary>
    public void RestoreParameters<T>(IEnumerable<Parameter<T>> parameters, string group = ParametersGroup)
        where T : unmanaged, IFloatingPointIeee754<T>
        => RestoreGroup(group, parameters.Select(p => (p.Name, p.Value)), what: "parameter", owner: "the model");

    /// <summary>Copies the checkpoint's <c>group.*</c> tensors into <paramref name="targets"/>, checked like <see cref="RestoreParameters{T}"/>.</summary>
    public void RestoreGroup<T>(string group, IEnumerable<(string Name, Tensor<T> Target)> targets, string what = "tensor", string owner = "the caller")
        where T : unmanaged
    {
        CheckGroup(group);
        var wanted = new Dictionary<string, Tensor<T>>(StringComparer.Ordinal);
        foreach (var (name, target) in targets)
            if (!wanted.TryAdd(name, target)) throw new ArgumentException($"{what} '{name}' is listed twice");

        var dtype = SafetensorsDTypes.Of<T>();
        var problems = new List<string>();
        foreach (var (name, target) in wanted)
        {
            if (!_tensors.TryGet(FullName(group, name), out var stored))
                problems.Add($"has no {what} '{name}' ({owner} expects {SafetensorsTensor.FormatShape(target.Shape)})");
            else if (stored.DType != dtype)
                problems.Add($"has {what} '{name}' of dtype {stored.DType}, {owner} expects {dtype}");
            else if (!stored.Shape.AsSpan().SequenceEqual(target.Shape))
                problems.Add($"has {what} '{name}' of shape {SafetensorsTensor.FormatShape(stored.Shape)}, {owner} expects {SafetensorsTensor.FormatShape(target.Shape)}");
        }
        string prefix = group + ".";
        foreach (var t in _tensors.Tensors)
            if (t.Name.StartsWith(prefix, StringComparison.Ordinal) && !wanted.ContainsKey(t.Name[prefix.Length..]))
                problems.Add($"has {what} '{t.Name[prefix.Length..]}' {SafetensorsTensor.FormatShape(t.Shape)} that {owner} does not have");
        if (problems.Count > 0)
            throw InputException.Content(Source, $"the checkpoint {string.Join("; ", problems)}");

        foreach (var (name, target) in wanted) target.CopyFrom(_tensors[FullName(group, name)].AsSpan<T>());
    }

    /// <summary>A stored tensor by its full name (e.g. "model.layer.W").</summary>
    public SafetensorsTensor GetTensor(string fullName) => _tensors[fullName];

    private static string FullName(string group, string name) => $"{group}.{name}";

    private static void CheckGroup(string group)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        if (group.Contains('.')) throw new ArgumentException($"group '{group}' must not contain '.' (it separates the group from the name)", nameof(group));
    }

    // ---- files ---------------------------------------------------------------------------------------------------

    /// <summary>Writes the checkpoint atomically: an interrupted save leaves any previous file at <paramref name="path"/> intact.</summary>
    public void Save(string path)
    {
        var file = new SafetensorsFile(path);
        foreach (var (key, value) in Metadata)
        {
            if (key.StartsWith(ReservedPrefix, StringComparison.Ordinal))
                throw new ArgumentException($"metadata key '{key}' uses the reserved prefix '{ReservedPrefix}'; use the typed properties");
            file.Metadata[key] = value;
        }
        file.Metadata[FormatKey] = FormatVersion;
        file.Metadata[ConfigKey] = Config;
        file.Metadata[EpochKey] = Epoch.ToString(CultureInfo.InvariantCulture);
        file.Metadata[StepKey] = Step.ToString(CultureInfo.InvariantCulture);
        if (Training is not null) file.Metadata[TrainingKey] = Training;
        foreach (var (name, seed) in Seeds) file.Metadata[SeedKeyPrefix + name] = seed.ToString(CultureInfo.InvariantCulture);
        foreach (var t in _tensors.Tensors) file.Add(t);
        SafetensorsWriter.Write(path, file);
    }

    public static Checkpoint Load(string path)
    {
        var file = SafetensorsReader.Read(path);
        string Required(string key) => file.Metadata.TryGetValue(key, out var v) ? v
            : throw InputException.Content(path, $"not an OptEq checkpoint: no '{key}' metadata");

        string format = Required(FormatKey);
        if (format != FormatVersion)
            throw InputException.Content(path, $"checkpoint format '{format}' is not supported (this build reads format {FormatVersion})");
        string config = Required(ConfigKey);
        if (JsonProblem(config) is string problem) throw InputException.Content(path, $"metadata '{ConfigKey}' is not valid JSON: {problem}");

        var checkpoint = new Checkpoint(file, config)
        {
            Epoch = ParseLong(path, EpochKey, Required(EpochKey)),
            Step = ParseLong(path, StepKey, Required(StepKey)),
            Training = file.Metadata.GetValueOrDefault(TrainingKey),
        };
        foreach (var (key, value) in file.Metadata)
        {
            if (key.StartsWith(SeedKeyPrefix, StringComparison.Ordinal))
                checkpoint.Seeds[key[SeedKeyPrefix.Length..]] = ParseLong(path, key, value);
            else if (key.StartsWith(ReservedPrefix, StringComparison.Ordinal))
            {
                if (key is not (FormatKey or ConfigKey or EpochKey or StepKey or TrainingKey))
                    throw InputException.Content(path, $"unknown metadata key '{key}' in the reserved '{ReservedPrefix}' namespace");
            }
            else checkpoint.Metadata[key] = value;
        }
        return checkpoint;
    }

    private static long ParseLong(string path, string key, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v
            : throw InputException.Content(path, $"metadata '{key}' = '{value}' is not an integer");

    private static string CheckConfig(string config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return JsonProblem(config) is string problem ? throw new ArgumentException($"the model configuration is not valid JSON: {problem}") : config;
    }

    private static string? JsonProblem(string json)
    {
        try
        {
            using var _ = JsonDocument.Parse(json);
            return null;
        }
        catch (JsonException e)
        {
            return e.Message;
        }
    }
}
