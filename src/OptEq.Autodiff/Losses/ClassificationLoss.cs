using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptEq.Autodiff.Losses;

/// <summary>The losses a classifier can train with.</summary>
public enum LossKind
{
    /// <summary>Softmax cross-entropy of the logits (docs/math.md §7.1); the prediction is the largest logit.</summary>
    CrossEntropy,
    /// <summary>The Max-Mahalanobis centre loss ½‖f − μ_y‖² (docs/math.md §7.9); the prediction is the nearest centre.</summary>
    Mmc,
}

/// <summary>
/// The loss a classifier trains with and the prediction rule that goes with it: the softmax cross-entropy, or the MMC
/// loss with fixed centres of norm C in the space of the model's last output (docs/math.md §7.9). Named on the command
/// line and in a checkpoint's training record as "ce", "mmc" (C = 10) or "mmc:C". The centres
/// live in the output's own space, so the model's last layer has one output per class, as for the cross-entropy.
/// </summary>
[JsonConverter(typeof(ClassificationLossJsonConverter))]
public sealed record ClassificationLoss
{
    /// <summary>C of "mmc": 10, the default of the MMC authors' published training code (its centres' scale, <c>mean_var</c>).</summary>
    public const double DefaultMmcNorm = 10;

    private ClassificationLoss(LossKind kind, double centreNorm) => (Kind, CentreNorm) = (kind, centreNorm);

    public static ClassificationLoss CrossEntropy { get; } = new(LossKind.CrossEntropy, 0);

    /// <summary>The MMC loss with centres of norm <paramref name="centreNorm"/> (finite, &gt; 0).</summary>
    public static ClassificationLoss Mmc(double centreNorm = DefaultMmcNorm) => centreNorm > 0 && double.IsFinite(centreNorm)
        ? new(LossKind.Mmc, centreNorm)
        : throw new ArgumentOutOfRangeException(nameof(centreNorm), centreNorm, "the MMC centres' norm C must be finite and > 0");

    public LossKind Kind { get; }

    /// <summary>C = ‖μ_k‖ for the MMC loss; 0 for the cross-entropy.</summary>
    public double CentreNorm { get; }

    /// <summary>The names <see cref="Parse"/> accepts.</summary>
    public const string ValidNames = "ce, mmc (centres of norm 10) or mmc:C";

    /// <summary>"ce", "mmc" or "mmc:C": what <see cref="Parse"/> reads back.</summary>
    public string Name => Kind == LossKind.CrossEntropy ? "ce"
        : CentreNorm == DefaultMmcNorm ? "mmc" : "mmc:" + CentreNorm.ToString("R", CultureInfo.InvariantCulture);

    public override string ToString() => Name;

    public static ClassificationLoss Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = text.Trim().ToLowerInvariant();
        if (name is "ce" or "cross-entropy") return CrossEntropy;
        if (name == "mmc") return Mmc();
        if (name.StartsWith("mmc:", StringComparison.Ordinal)
            && double.TryParse(name.AsSpan(4), NumberStyles.Float, CultureInfo.InvariantCulture, out double norm) && norm > 0 && double.IsFinite(norm))
            return Mmc(norm);
        throw new ArgumentException($"unknown loss '{text}'; valid: {ValidNames} (C a number > 0)", nameof(text));
    }

    /// <summary>The MMC centres for <paramref name="classes"/> outputs, row-major [classes, classes]; empty for the cross-entropy.</summary>
    public double[] Centres(int classes) => Kind == LossKind.Mmc ? MaxMahalanobisCentres.Build(classes, classes, CentreNorm) : [];

    /// <summary>
    /// The loss of an output that knows nothing, the scale of "this has diverged": ln L for the cross-entropy (uniform
    /// probabilities), ½C² for the MMC loss (the output at the origin, where every centre is at distance C).
    /// </summary>
    public double UninformedLoss(int classes) => Kind == LossKind.CrossEntropy ? Math.Log(classes) : CentreNorm * CentreNorm / 2;

    /// <summary>The prediction rule in words (for the checkpoint's model card).</summary>
    public string PredictionRule => Kind == LossKind.CrossEntropy
        ? "the argmax of the last output"
        : "the class k whose Max-Mahalanobis centre μ_k is nearest to the last output f, i.e. the argmax of ⟨f, μ_k⟩ (all ‖μ_k‖ are equal); " +
          $"centres by the recursive construction of Pang, Du and Zhu (ICML 2018) with ‖μ_k‖ = {CentreNorm.ToString("R", CultureInfo.InvariantCulture)} (docs/math.md §7.9)";
}

/// <summary>Reads and writes a <see cref="ClassificationLoss"/> as its name ("ce", "mmc", "mmc:C").</summary>
public sealed class ClassificationLossJsonConverter : JsonConverter<ClassificationLoss>
{
    public override ClassificationLoss Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"a loss is a text ({ClassificationLoss.ValidNames})");
        try { return ClassificationLoss.Parse(reader.GetString()!); }
        catch (ArgumentException e) { throw new JsonException(e.Message, e); }
    }

    public override void Write(Utf8JsonWriter writer, ClassificationLoss value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}
