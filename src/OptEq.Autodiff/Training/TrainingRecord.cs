using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Schedules;

namespace OptEq.Autodiff.Training;

/// <summary>
/// What a training checkpoint keeps besides the model and the optimizer state (metadata "opteq.training"): the options
/// that shape the run — optimizer, learning rate, schedule and its length (the run's total epochs), batch, augmentation,
/// seed, weight decay, clipping, loss — a fingerprint of the training data, the best test accuracy so far and every epoch's
/// metrics. A resume compares it field by field with the options it is given, and continues the history.
/// </summary>
public sealed record TrainingRecord
{
    public required string Optimizer { get; init; }
    public required double LearningRate { get; init; }
    public required string Schedule { get; init; }
    /// <summary>The run's total epochs: the schedule's length in epochs.</summary>
    public required int Epochs { get; init; }
    public required int Batch { get; init; }
    public required int AugmentShift { get; init; }
    public required int Seed { get; init; }
    public required double WeightDecay { get; init; }
    public required double ClipNorm { get; init; }
    /// <summary>SHA-256 over the training labels, then the training images as float32 (as the trainer sees them).</summary>
    public required string DataFingerprint { get; init; }
    /// <summary>DDPNOpt's options (<see cref="Optimizers.Ddpn.DdpnOptions.Describe"/>) when the optimizer is ddpnopt, else null
    /// (absent in checkpoints written before it was recorded).</summary>
    public string? Ddpn { get; init; }
    /// <summary>The loss trained on (<see cref="Losses.ClassificationLoss.Name"/>: "ce", "mmc", "mmc:C"), which also fixes the
    /// prediction rule; "ce" in checkpoints written before it was recorded.</summary>
    public string Loss { get; init; } = "ce";
    public double BestTestAccuracy { get; init; } = -1;
    public int BestEpoch { get; init; }
    public IReadOnlyList<EpochMetrics> History { get; init; } = [];

    public static TrainingRecord Of(TrainingOptions options, string dataFingerprint) => new()
    {
        Optimizer = OptimizerFactory.Name(options.Optimizer), LearningRate = options.LearningRate, Schedule = options.Schedule.Text,
        Epochs = options.Epochs, Batch = options.Batch, AugmentShift = options.AugmentShift, Seed = options.Seed,
        WeightDecay = options.WeightDecay, ClipNorm = options.ClipNorm, DataFingerprint = dataFingerprint,
        Ddpn = options.Optimizer == OptimizerKind.Ddpnopt ? options.Ddpn.Describe() : null,
        Loss = options.Loss.Name,
    };

    /// <summary>The loss named by <see cref="Loss"/>; an unknown name is an error naming <paramref name="source"/>.</summary>
    public Losses.ClassificationLoss ParsedLoss(string source)
    {
        try { return Losses.ClassificationLoss.Parse(Loss); }
        catch (ArgumentException e)
        {
            throw Validation.InputException.Content(source, $"metadata '{Checkpoints.Checkpoint.TrainingKey}' names an unknown loss: {e.Message}", e);
        }
    }

    public static string Fingerprint(Dataset train)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(MemoryMarshal.AsBytes(train.Labels.AsSpan()));
        sha.AppendData(MemoryMarshal.AsBytes(train.Images.AsSpan()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// The options that differ from <paramref name="run"/>'s, as "lr: 0.003 in the checkpoint, 0.01 now". The epoch
    /// count counts only for schedules whose shape depends on the run's length (cosine, one-cycle): with those, a
    /// different total changes every learning rate still to come.
    /// </summary>
    public IReadOnlyList<string> Differences(TrainingRecord run)
    {
        var differences = new List<string>();
        void Compare<T>(string name, T stored, T now)
        {
            if (!EqualityComparer<T>.Default.Equals(stored, now))
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: {stored} in the checkpoint, {now} now"));
        }
        Compare("--optimizer", Optimizer, run.Optimizer);
        Compare("--lr", LearningRate, run.LearningRate);
        Compare("--schedule", ScheduleSpec.Parse(Schedule), ScheduleSpec.Parse(run.Schedule));
        if (ScheduleSpec.Parse(run.Schedule).Kind is ScheduleKind.Cosine or ScheduleKind.OneCycle)
            Compare("--epochs (the schedule's length)", Epochs, run.Epochs);
        Compare("--batch", Batch, run.Batch);
        Compare("--augment", AugmentShift, run.AugmentShift);
        Compare("--seed", Seed, run.Seed);
        Compare("--weight-decay", WeightDecay, run.WeightDecay);
        Compare("--clip", ClipNorm, run.ClipNorm);
        if (Ddpn is not null) Compare("--ddpn-* options", Ddpn, run.Ddpn);
        Compare("--loss", Canonical(Loss), Canonical(run.Loss));
        Compare("training data (SHA-256 fingerprint)", DataFingerprint, run.DataFingerprint);
        return differences;
    }

    // "mmc" and "mmc:10" are the same loss; a name that does not parse is compared as written.
    private static string Canonical(string loss)
    {
        try { return Losses.ClassificationLoss.Parse(loss).Name; }
        catch (ArgumentException) { return loss; }
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static TrainingRecord FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingRecord>(json, JsonOptions) ?? throw new JsonException("it is null");
        }
        catch (JsonException e)
        {
            throw Validation.InputException.Content(source, $"metadata '{Checkpoints.Checkpoint.TrainingKey}' is not a valid training record: {e.Message}", e);
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
