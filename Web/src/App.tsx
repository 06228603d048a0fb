import { useCallback, useState } from 'react';
import { App as AntApp, ConfigProvider } from 'antd';
import { SignIn } from './components/SignIn';
import { BacktestRunner } from './components/BacktestRunner';
import { SessionProvider, clearStoredKey, readStoredKey, storeKey } from './session';

export function App() {
  const [apiKey, setApiKey] = useState<string | null>(readStoredKey);
  const signIn = useCallback((key: string) => {
    storeKey(key);
    setApiKey(key);
  }, []);
  const signOut = useCallback(() => {
    clearStoredKey();
    setApiKey(null);
  }, []);
  return (
    <ConfigProvider theme={{ token: { borderRadius: 4 } }}>
      <AntApp>
        {apiKey ? (
          <SessionProvider apiKey={apiKey} onSignOut={signOut}>
            <BacktestRunner />
          </SessionProvider>
        ) : (
          <SignIn onSignedIn={signIn} />
        )}
      </AntApp>
    </ConfigProvider>
  );
}
