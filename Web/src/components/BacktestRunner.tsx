// The page that ties it together: set up a run, watch the queue, browse runs, open one, compare.
import { Suspense, lazy, useCallback, useEffect, useState } from 'react';
import { Alert, Badge, Button, Layout, Menu, Space, Spin, Typography, message } from 'antd';
import { useSession } from '../session';
import type { InstrumentInfo, StrategyTemplate } from '../api/types';
import { BacktestConfiguration } from './BacktestConfiguration';
import { setServedOptions } from './configuration/servedOptions';
import { StrategyEditor } from './StrategyEditor';
import { BacktestQueue } from './BacktestQueue';
import { RunList } from './RunList';
import type { ConnectionPhase } from '../live/hub';

// The charts load when first needed: the configuration page paints without them.
const RunDetail = lazy(() => import('./RunDetail'));
const CompareView = lazy(() => import('./CompareView').then((m) => ({ default: m.CompareView })));
const OptimizePage = lazy(() => import('./OptimizePage').then((m) => ({ default: m.OptimizePage })));
const OptimizationJobView = lazy(() => import('./OptimizationJobView'));
const WalkForwardPage = lazy(() => import('./WalkForwardPage').then((m) => ({ default: m.WalkForwardPage })));
const WalkForwardJobView = lazy(() => import('./WalkForwardJobView'));

type Route = { page: 'new' | 'queue' | 'runs' | 'compare' | 'optimize' | 'walkforward' } | { page: 'run' | 'optimization' | 'walkforwardJob'; id: string };

function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'runs' && parts[1]) return { page: 'run', id: parts[1] };
  if (parts[0] === 'optimize' && parts[1]) return { page: 'optimization', id: parts[1] };
  if (parts[0] === 'walkforward' && parts[1]) return { page: 'walkforwardJob', id: parts[1] };
  if (parts[0] === 'queue' || parts[0] === 'runs' || parts[0] === 'compare' || parts[0] === 'optimize' || parts[0] === 'walkforward') return { page: parts[0] };
  return { page: 'new' };
}

export function useHashRoute() {
  const [route, setRoute] = useState<Route>(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  const go = useCallback((hash: string) => {
    window.location.hash = hash;
  }, []);
  return [route, go] as const;
}

const PHASE_TEXT: Record<ConnectionPhase, { status: 'success' | 'processing' | 'warning' | 'error'; text: string }> = {
  connected: { status: 'success', text: 'Live updates on' },
  connecting: { status: 'processing', text: 'Connecting…' },
  reconnecting: { status: 'warning', text: 'Reconnecting…' },
  disconnected: { status: 'error', text: 'Live updates off' },
};

export function BacktestRunner() {
  const { api, hub, signOut } = useSession();
  const [route, go] = useHashRoute();
  const [strategies, setStrategies] = useState<StrategyTemplate[]>([]);
  const [instruments, setInstruments] = useState<InstrumentInfo[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [phase, setPhase] = useState<ConnectionPhase>(hub.phase);

  useEffect(() => hub.onPhase(setPhase), [hub]);
  useEffect(() => {
    Promise.all([api.strategies(), api.instruments(), api.configurationOptions()]).then(
      ([s, i, o]) => {
        setStrategies(s);
        setInstruments(i);
        setServedOptions(o);
      },
      (e: Error) => setLoadError(e.message),
    );
  }, [api]);

  const start = async (config: Parameters<typeof api.start>[0], priority: Parameters<typeof api.start>[1]) => {
    const { id } = await api.start(config, priority);
    message.success('Backtest started');
    go(`/runs/${id}`);
  };

  const selected = route.page === 'run' ? 'runs' : route.page === 'optimization' ? 'optimize' : route.page === 'walkforwardJob' ? 'walkforward' : route.page;
  const phaseText = PHASE_TEXT[phase];

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: 24, padding: '0 16px' }}>
        <Typography.Title level={4} style={{ color: '#fff', margin: 0, whiteSpace: 'nowrap' }}>Backtesting</Typography.Title>
        <Menu
          theme="dark"
          mode="horizontal"
          selectedKeys={[selected]}
          style={{ flex: 1, minWidth: 0 }}
          onClick={(e) => go(`/${e.key}`)}
          items={[
            { key: 'new', label: 'New backtest' },
            { key: 'queue', label: 'Queue' },
            { key: 'runs', label: 'Runs' },
            { key: 'compare', label: 'Compare' },
            { key: 'optimize', label: 'Optimize' },
            { key: 'walkforward', label: 'Walk-forward' },
          ]}
        />
        <Space>
          <Badge status={phaseText.status} text={<span style={{ color: '#fff' }}>{phaseText.text}</span>} />
          <Typography.Link href="/swagger" target="_blank" style={{ color: '#fff' }}>API docs</Typography.Link>
          <Button size="small" onClick={signOut}>Sign out</Button>
        </Space>
      </Layout.Header>
      <Layout.Content style={{ padding: 16, maxWidth: 1600, width: '100%', margin: '0 auto' }}>
        {loadError && <Alert type="error" showIcon message={`Could not load strategies, instruments or configuration options: ${loadError}`} style={{ marginBottom: 12 }} />}
        <Suspense fallback={<Spin />}>
          {route.page === 'new' && (
            <>
              <BacktestConfiguration strategies={strategies} instruments={instruments} onSubmit={start} />
              <StrategyEditor
                customNames={strategies.filter((s) => s.kind === 'custom').map((s) => s.name)}
                upload={api.uploadStrategy}
                loadSource={async (name) => (await api.strategy(name)).source}
                onUploaded={() => void api.strategies().then(setStrategies)}
                remove={api.deleteStrategy}
                onDeleted={() => void api.strategies().then(setStrategies)}
              />
            </>
          )}
          {route.page === 'queue' && <BacktestQueue onOpen={(id) => go(`/runs/${id}`)} />}
          {route.page === 'runs' && <RunList onOpen={(id) => go(`/runs/${id}`)} />}
          {route.page === 'compare' && <CompareView />}
          {route.page === 'run' && <RunDetail key={route.id} id={route.id} onBack={() => go('/runs')} />}
          {route.page === 'optimize' && <OptimizePage strategies={strategies} instruments={instruments} onOpen={(id) => go(`/optimize/${id}`)} />}
          {route.page === 'optimization' && (
            <OptimizationJobView key={route.id} id={route.id} onBack={() => go('/optimize')} onOpenBacktest={(id) => go(`/runs/${id}`)} />
          )}
          {route.page === 'walkforward' && (
            <WalkForwardPage strategies={strategies} instruments={instruments} onOpen={(id) => go(`/walkforward/${id}`)} />
          )}
          {route.page === 'walkforwardJob' && <WalkForwardJobView key={route.id} id={route.id} onBack={() => go('/walkforward')} />}
        </Suspense>
      </Layout.Content>
    </Layout>
  );
}
