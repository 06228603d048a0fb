using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Backtesting.Compiler;

/// <summary>
/// Where a compiled strategy could keep state that outlives one run in a load context: the static fields of the types it
/// declares (a static field, a static auto-property's backing field, a static event), read from the assembly's metadata.
/// Constants are not state. Types the C# compiler generates (named with '&lt;', which source cannot declare) are skipped:
/// their static fields cache stateless delegates or hold read-only initialization data. An optimization batch loads a
/// strategy with none of these once for all its trials, and one with any of them anew for each trial.
/// </summary>
public static class StaticState
{
    /// <summary>The static fields (<c>Type.field</c>) of the types the assembly declares; empty when it keeps no static state.</summary>
    public static IReadOnlyList<string> Fields(byte[] image)
    {
        using var pe = new PEReader(ImmutableArray.Create(image));
        var metadata = pe.GetMetadataReader();
        var found = new List<string>();
        foreach (var handle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(handle);
            var typeName = metadata.GetString(type.Name);
            if (typeName.StartsWith('<'))
            {
                continue;
            }

            foreach (var fieldHandle in type.GetFields())
            {
                var field = metadata.GetFieldDefinition(fieldHandle);
                if ((field.Attributes & FieldAttributes.Static) != 0 && (field.Attributes & FieldAttributes.Literal) == 0)
                {
                    found.Add($"{typeName}.{metadata.GetString(field.Name)}");
                }
            }
        }

        return found;
    }
}
