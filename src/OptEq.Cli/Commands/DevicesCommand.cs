using System.CommandLine;
using System.Text.Json;
using OptEq.Kernels;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq devices</c>: what is here, with its properties, and which one is the default.</summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("devices", "List the available devices and their properties.") { json };
        command.SetAction(parse =>
        {
            var devices = DeviceCatalog.Available();
            string defaultId = DeviceCatalog.DefaultId();
            foreach (var d in devices)
            {
                bool isDefault = d.Id == defaultId || (defaultId is "cuda" or "opencl" && d.Id == defaultId + ":0");
                if (parse.GetValue(json))
                {
                    var obj = new Dictionary<string, object> { ["id"] = d.Id, ["kind"] = d.Kind.ToString(), ["name"] = d.Name, ["default"] = isDefault };
                    foreach (var (k, v) in d.Properties) obj[k] = v;
                    Console.WriteLine(JsonSerializer.Serialize(obj));
                    continue;
                }
                Console.WriteLine($"{d.Id,-10} {d.Kind,-9} {d.Name}{(isDefault ? "   [default]" : "")}");
                foreach (var (k, v) in d.Properties) Console.WriteLine($"           {k,-24} {v}");
            }
            if (!parse.GetValue(json))
                Console.WriteLine($"\nChoose with --device ID or {DeviceCatalog.EnvironmentVariable}=ID. ilgpu-cpu emulates GPU threads for checking kernels; it is not a fast path.");
            return 0;
        });
        return command;
    }
}
