// Saved strategy presets: the form's settings under a name, per strategy, in the browser's localStorage
// (dates, instruments and venues are left out: they belong to one run). "Schema defaults" resets the settings and
// the strategy's parameters.
import { useMemo, useState } from 'react';
import { message, type FormInstance } from 'antd';
import type { StrategyTemplate } from '../../api/types';
import { defaultSettings, parameterDefaults, type FormValues } from '../configForm';

interface SavedPreset { name: string; values: Partial<FormValues> }

/** The option of the preset list that applies the defaults rather than a saved preset. */
export const SCHEMA_DEFAULTS = '__defaults';

const presetKey = (strategy: string) => `backtesting.presets.${strategy}`;
const loadPresets = (strategy: string): SavedPreset[] => {
  try {
    return JSON.parse(localStorage.getItem(presetKey(strategy)) ?? '[]');
  } catch {
    return [];
  }
};

export function usePresets(form: FormInstance<FormValues>, strategyClass: string | undefined, strategy: StrategyTemplate | undefined) {
  const [presetName, setPresetName] = useState('');
  const [presetsVersion, setPresetsVersion] = useState(0);
  const savedPresets = useMemo(() => (strategyClass ? loadPresets(strategyClass) : []),
    [strategyClass, presetsVersion]);

  const savePreset = () => {
    if (!strategyClass || !presetName.trim()) return;
    const values = form.getFieldsValue(true) as FormValues;
    const { dateRange: _d, instruments: _i, venues: _v, ...kept } = values;
    const rest = loadPresets(strategyClass).filter((p) => p.name !== presetName.trim());
    localStorage.setItem(presetKey(strategyClass), JSON.stringify([...rest, { name: presetName.trim(), values: kept }]));
    setPresetName('');
    setPresetsVersion((v) => v + 1);
    message.success(`Preset "${presetName.trim()}" saved`);
  };

  const applyPreset = (name: string) => {
    if (!strategy) return;
    if (name === SCHEMA_DEFAULTS) {
      form.setFieldsValue({ ...defaultSettings(), strategyConfig: parameterDefaults(strategy.parameters) } as never);
      return;
    }
    const preset = savedPresets.find((p) => p.name === name);
    if (preset) form.setFieldsValue(preset.values as never);
  };

  return { savedPresets, presetName, setPresetName, savePreset, applyPreset };
}
