using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptEq.Autodiff.Optimizers;

/// <summary>The optimizers <see cref="OptimizerFactory"/> builds; written as their names (adam, adamw, sgd, rmsprop, ddpnopt) in JSON.</summary>
[JsonConverter(typeof(OptimizerKindJsonConverter))]
public enum OptimizerKind
{
    /// <summary><see cref="Adam{T}"/> with L2 weight decay.</summary>
    Adam,
    /// <summary><see cref="AdamW{T}"/> with decoupled weight decay.</summary>
    AdamW,
    /// <summary><see cref="Sgd{T}"/> with momentum 0.9, Nesterov.</summary>
    Sgd,
    /// <summary><see cref="Rmsprop{T}"/> (α 0.99, no momentum).</summary>
    Rmsprop,
    /// <summary>DDPNOpt (docs/math.md §6): its own training step (<see cref="Ddpn.DdpnStep{T}"/>) over a base optimizer.</summary>
    Ddpnopt,
}

/// <summary>Reads and writes an <see cref="OptimizerKind"/> as its name; an unknown name lists the valid ones.</summary>
public sealed class OptimizerKindJsonConverter : JsonConverter<OptimizerKind>
{
    public override OptimizerKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"an optimizer is a name ({string.Join(", ", OptimizerFactory.Names)})");
        try { return OptimizerFactory.Parse(reader.GetString()!); }
        catch (ArgumentException e) { throw new JsonException(e.Message, e); }
    }

    public override void Write(Utf8JsonWriter writer, OptimizerKind value, JsonSerializerOptions options) => writer.WriteStringValue(OptimizerFactory.Name(value));
}
