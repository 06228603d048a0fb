using System.Globalization;
using System.Text.Json;
using Backtesting.Engine.Strategies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Backtesting.Compiler;

/// <summary>
/// Reads a strategy's schema from the compiler's symbols: the <see cref="StrategyInfoAttribute"/> and
/// <see cref="ParameterAttribute"/> arguments, and each parameter's default from its property's constant initializer.
/// Nothing of the strategy runs, so an upload that loops, throws or overflows in its constructor compiles all the
/// same; the run that creates it does so in the worker's sandbox, under the run's watchdog.
/// </summary>
internal static class StrategySchemaReader
{
    /// <summary>The description of a strategy without <see cref="StrategyInfoAttribute"/>.</summary>
    public const string DefaultDescription = "Custom strategy";

    private const string InfoAttributeName = "Backtesting.Engine.Strategies.StrategyInfoAttribute";
    private const string ParameterAttributeName = "Backtesting.Engine.Strategies.ParameterAttribute";

    // The engine's own attribute defaults (MaxInstruments, Min, Max, Required, Allowed), so they live in one place.
    private static readonly StrategyInfoAttribute InfoDefaults = new("");
    private static readonly ParameterAttribute ParameterDefaults = new("");

    /// <summary>How many instruments a strategy without <see cref="StrategyInfoAttribute.MaxInstruments"/> trades at most.</summary>
    public static int DefaultMaxInstruments => InfoDefaults.MaxInstruments;

    public static StrategySchema Read(INamedTypeSymbol strategy, Compilation compilation)
    {
        var info = strategy.GetAttributes().FirstOrDefault(a => Is(a, InfoAttributeName));
        var description = info?.ConstructorArguments.FirstOrDefault().Value as string ?? DefaultDescription;
        var maxInstruments = info is not null && Argument(info, nameof(StrategyInfoAttribute.MaxInstruments)) is { Value: int max }
            ? max
            : InfoDefaults.MaxInstruments;
        var parameters = new List<ParameterSchema>();
        // Most derived type first, each type's properties in declaration order: the order reflection lists them in.
        for (var type = strategy; type is not null && SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, compilation.Assembly); type = type.BaseType)
        {
            foreach (var property in type.GetMembers().OfType<IPropertySymbol>())
            {
                var attribute = property.GetAttributes().FirstOrDefault(a => Is(a, ParameterAttributeName));
                if (attribute is null || property.IsStatic || property.DeclaredAccessibility != Accessibility.Public)
                {
                    continue;
                }

                var clrType = ClrType(property.Type)!;
                parameters.Add(new ParameterSchema(
                    JsonNamingPolicy.CamelCase.ConvertName(property.Name),
                    StrategyDescriptor.TypeName(clrType)!,
                    Argument(attribute, nameof(ParameterAttribute.Required)) is { Value: bool required } ? required : ParameterDefaults.Required,
                    Default(property, clrType, compilation),
                    Bound(Argument(attribute, nameof(ParameterAttribute.Min)), ParameterDefaults.Min),
                    Bound(Argument(attribute, nameof(ParameterAttribute.Max)), ParameterDefaults.Max),
                    attribute.ConstructorArguments.FirstOrDefault().Value as string ?? "",
                    Argument(attribute, nameof(ParameterAttribute.Allowed)) is { Kind: TypedConstantKind.Array, IsNull: false } allowed
                        ? allowed.Values.Select(v => v.Value as string ?? "").ToList()
                        : ParameterDefaults.Allowed));
            }
        }

        return new StrategySchema(strategy.Name, description, maxInstruments, parameters);
    }

    /// <summary>
    /// Why a [Parameter] property's default cannot be read without running the strategy, or null when it can: it must
    /// be an auto-property whose initializer, if any, is a compile-time constant.
    /// </summary>
    public static string? DefaultProblem(IPropertySymbol property, Compilation compilation)
    {
        var declaration = Declaration(property);
        if (declaration is null || declaration.ExpressionBody is not null
            || declaration.AccessorList is null || declaration.AccessorList.Accessors.Any(a => a.Body is not null || a.ExpressionBody is not null))
        {
            return $"parameter {property.Name} must be an auto-property ({{ get; set; }}): its default is read from its initializer without running the strategy";
        }

        if (declaration.Initializer is { } initializer && !compilation.GetSemanticModel(declaration.SyntaxTree).GetConstantValue(initializer.Value).HasValue)
        {
            return $"parameter {property.Name}'s default must be a constant (a literal or a const): compiling reads it without running the strategy";
        }

        return null;
    }

    private static object? Default(IPropertySymbol property, Type clrType, Compilation compilation)
    {
        var initializer = Declaration(property)?.Initializer;
        var constant = initializer is null ? default : compilation.GetSemanticModel(initializer.SyntaxTree).GetConstantValue(initializer.Value);
        if (!constant.HasValue)
        {
            return clrType.IsValueType ? Activator.CreateInstance(clrType) : null; // the property's own default(T)
        }

        return constant.Value is null ? null : Convert.ChangeType(constant.Value, clrType, CultureInfo.InvariantCulture);
    }

    private static PropertyDeclarationSyntax? Declaration(IPropertySymbol property) =>
        property.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<PropertyDeclarationSyntax>().FirstOrDefault();

    /// <summary>The CLR type of a parameter type the compiler accepts (see the ParameterShape rule), else null.</summary>
    public static Type? ClrType(ITypeSymbol type) => type.SpecialType switch
    {
        SpecialType.System_Int32 => typeof(int),
        SpecialType.System_Int64 => typeof(long),
        SpecialType.System_Double => typeof(double),
        SpecialType.System_Decimal => typeof(decimal),
        SpecialType.System_Boolean => typeof(bool),
        SpecialType.System_String => typeof(string),
        _ => null,
    };

    private static double? Bound(TypedConstant? value, double unbounded)
    {
        var bound = value is { IsNull: false, Value: { } number } ? Convert.ToDouble(number, CultureInfo.InvariantCulture) : unbounded;
        return double.IsNaN(bound) ? null : bound;
    }

    private static bool Is(AttributeData attribute, string fullName) =>
        attribute.AttributeClass?.ToDisplayString() == fullName;

    private static TypedConstant? Argument(AttributeData attribute, string name) =>
        attribute.NamedArguments.Where(a => a.Key == name).Select(a => (TypedConstant?)a.Value).FirstOrDefault();
}
