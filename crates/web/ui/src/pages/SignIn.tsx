// Sign in or register (then sign in): the session token from POST /v1/auth/login is kept in
// localStorage and sent as a bearer token.

import { useState, type FormEvent } from 'react';
import { api, errorText, setSessionToken, type LoginResponse } from '../api';

export function SignIn() {
  const [mode, setMode] = useState<'signin' | 'register'>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [invite, setInvite] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'register') {
        const body: Record<string, string> = { email, password };
        if (name) body.display_name = name;
        if (invite) body.invite = invite;
        await api('/v1/auth/register', { method: 'POST', json: body });
      }
      const session = await api<LoginResponse>('/v1/auth/login', { method: 'POST', json: { email, password } });
      setSessionToken(session.access_token);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <h1>stockd</h1>
      <div className="tabs" role="tablist" aria-label="Account">
        <button type="button" role="tab" aria-selected={mode === 'signin'} onClick={() => setMode('signin')}>
          Sign in
        </button>
        <button type="button" role="tab" aria-selected={mode === 'register'} onClick={() => setMode('register')}>
          Register
        </button>
      </div>
      <form onSubmit={submit} className="card stack" aria-label={mode === 'signin' ? 'Sign in' : 'Register'}>
        <label>
          Email
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            required
            minLength={mode === 'register' ? 10 : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {mode === 'register' && (
          <>
            <label>
              Display name (optional)
              <input autoComplete="nickname" value={name} onChange={(e) => setName(e.target.value)} />
            </label>
            <label>
              Invitation (if sign-up is by invitation)
              <input value={invite} onChange={(e) => setInvite(e.target.value)} />
            </label>
          </>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {mode === 'signin' ? 'Sign in' : 'Create account'}
        </button>
      </form>
    </main>
  );
}
