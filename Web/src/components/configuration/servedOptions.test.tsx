import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import dayjs from 'dayjs';
import { BacktestConfiguration } from '../BacktestConfiguration';
import { CONFIGURATION_OPTIONS, INSTRUMENTS, STRATEGIES } from '../../test/fixtures';
import type { BacktestConfig, ConfigurationOptions } from '../../api/types';
import { setServedOptions } from './servedOptions';

// Options another engine could serve: a currency more, another order, other defaults.
const SERVED: ConfigurationOptions = {
  ...CONFIGURATION_OPTIONS,
  currencies: ['SEK', 'USD', 'EUR'],
  resolutions: ['daily', 'hour'],
  defaults: {
    ...CONFIGURATION_OPTIONS.defaults,
    initialBalance: 250_000,
    baseCurrency: 'SEK',
    accountType: 'margin',
    riskSettings: { ...CONFIGURATION_OPTIONS.defaults.riskSettings, maxLeverage: 2 },
  },
  defaultPriority: 'high',
  maxDurationYears: 8,
};

const ready = {
  strategyClass: 'MovingAverageCross',
  instruments: ['SPY.ARCA'],
  dateRange: [dayjs('2019-01-02'), dayjs('2019-12-31')] as [dayjs.Dayjs, dayjs.Dayjs],
};

const field = (label: string) => screen.getAllByLabelText(label)[0];

/** The words a select offers, in order, once opened. */
async function offered(label: string) {
  const input = field(label);
  fireEvent.mouseDown(input.closest('.ant-select')!.querySelector('.ant-select-selector')!);
  const dropdown = await waitFor(() => document.getElementById(`${input.id}_list`)!.closest('.ant-select-dropdown') as HTMLElement);
  await waitFor(() => expect(dropdown.querySelectorAll('.ant-select-item-option').length).toBeGreaterThan(0));
  return [...dropdown.querySelectorAll('.ant-select-item-option')].map((o) => o.getAttribute('title'));
}

afterEach(() => setServedOptions(CONFIGURATION_OPTIONS));

describe('BacktestConfiguration: the settings are offered as the API serves them', () => {
  it('offers the served words of each setting, in the served order, and nothing the API did not list', async () => {
    setServedOptions(SERVED);
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={vi.fn()} initial={ready} />);
    expect(await offered('Currency')).toEqual(['SEK', 'USD', 'EUR']);
    expect(await offered('Resolution')).toEqual(['daily', 'hour']);
  });

  it('starts from the served defaults and sends them', async () => {
    setServedOptions(SERVED);
    let sent: BacktestConfig | null = null;
    const onSubmit = vi.fn(async (config: BacktestConfig) => {
      sent = config;
    });
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={onSubmit} initial={ready} />);
    await waitFor(() => expect(field('Initial capital')).toHaveValue('250000'));
    fireEvent.click((await screen.findByText('Review and run')).closest('button')!);
    const summary = await screen.findByTestId('confirm-summary');
    expect(summary).toHaveTextContent('250,000 SEK (margin)');
    expect(within(summary).getByText('high')).toBeInTheDocument();
    await act(async () => {
      fireEvent.click((await screen.findByText('Run backtest')).closest('button')!);
    });
    expect(onSubmit).toHaveBeenCalledWith(expect.anything(), 'high');
    expect(sent).toMatchObject({ initialBalance: 250_000, baseCurrency: 'SEK', accountType: 'margin', riskSettings: { maxLeverage: 2 }, benchmark: null });
  });

  it("tells the cluster's longest range as served, or that it has none", async () => {
    setServedOptions(SERVED);
    const { unmount } = render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={vi.fn()} initial={ready} />);
    const help = () => field('Date range').closest('.ant-form-item')!;
    await waitFor(() => expect(help()).toHaveTextContent('The cluster admits at most 8 years: the end on or before the start plus 8 years.'));
    unmount();
    setServedOptions({ ...SERVED, maxDurationYears: null });
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={vi.fn()} initial={ready} />);
    await waitFor(() => expect(help()).toHaveTextContent('The cluster sets no limit on the range.'));
  });

  it('shows a spinner in place of the form until the API has answered', async () => {
    setServedOptions(null);
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={vi.fn()} initial={ready} />);
    const card = screen.getByTestId('backtest-configuration');
    expect(card.querySelector('.ant-spin')).not.toBeNull();
    expect(screen.queryByLabelText('Strategy')).toBeNull();
    act(() => setServedOptions(SERVED));
    await waitFor(() => expect(field('Strategy')).toBeInTheDocument());
    expect(field('Initial capital')).toHaveValue('250000');
  });
});
