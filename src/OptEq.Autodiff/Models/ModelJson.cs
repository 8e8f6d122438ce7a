using System.Text.Json;
using System.Text.Json.Serialization;
using OptEq.Kernels.Activations;
using OptEq.Solvers.Operators;

namespace OptEq.Autodiff.Models;

/// <summary>The JSON settings of model configurations and specs: camelCase written, names read in any case, indented off.</summary>
internal static class ModelJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true, // checkpoints written before the spec used PascalCase names
        WriteIndented = false,
        RespectNullableAnnotations = true, // "activation": null is an error, not a null reference later
    };
}

/// <summary>An activation in JSON: its name as <see cref="Activation.Parse"/> reads it ("relu", "leaky-relu:0.1").</summary>
public sealed class ActivationJsonConverter : JsonConverter<Activation>
{
    public override Activation Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => Activation.Parse(reader.GetString() ?? throw new JsonException("an activation must be a string"));

    public override void Write(Utf8JsonWriter writer, Activation value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>A norm in JSON: "frobenius" or "spectral".</summary>
public sealed class NormKindJsonConverter() : JsonStringEnumConverter<NormKind>(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false);

/// <summary>A convolution's padding in JSON: "zero" or "circular".</summary>
public sealed class ConvPaddingJsonConverter() : JsonStringEnumConverter<ConvPadding>(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false);

/// <summary>A WᵀW method in JSON: "auto", "convs", "blocked" or "fourier" (<see cref="GramMethods"/>).</summary>
public sealed class GramMethodJsonConverter : JsonConverter<GramMethod>
{
    public override GramMethod Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"a WᵀW method must be a string: {GramMethods.NameList}");
        string? name = reader.GetString();
        return GramMethods.TryParse(name, out var method) ? method : throw new JsonException($"'{name}' is not a WᵀW method: {GramMethods.NameList}");
    }

    public override void Write(Utf8JsonWriter writer, GramMethod value, JsonSerializerOptions options) => writer.WriteStringValue(GramMethods.Name(value));
}
