import type { clinic } from '../domain';
import type { Role } from './schema';

/** The demo world seeded on first start. The README lists these accounts; e2e tests sign in with them. */
export const demoPassword = 'yeyak-demo-2026';

type Interval = clinic.OpeningInterval;
/** Monday (1) to Friday (5); Sunday is 0, as in the domain. Monday to Friday, one interval per [opens, closes] pair (several for a lunch break). */
const weekdays = (...spans: Array<[string, string]>): Interval[] =>
  [1, 2, 3, 4, 5].flatMap((weekday) => spans.map(([opens, closes]) => ({ weekday, opens, closes })));
const on = (weekday: number, opens: string, closes: string): Interval => ({ weekday, opens, closes });
/** The booking kinds a treatment allows (a mutable array: the list below is `as const`). */
const kinds = (...allowed: clinic.BookingKind[]): clinic.BookingKind[] => allowed;

/** Free cancellation until 24 h before; a late cancellation keeps ₩30,000 of the deposit; no-shows forfeit it. */
const standardPolicy: clinic.CancellationPolicy = { freeCancellationHours: 24, lateCancellationFeeKrw: 30_000, noShowForfeitsDeposit: true, minimumNoticeHours: 2 };

export const demoClinics = [
  {
    id: 'gangnam-glow',
    name: '강남 글로우 피부과',
    nameEn: 'Gangnam Glow Dermatology',
    district: '서울 강남구 · Gangnam-gu, Seoul',
    address: '서울특별시 강남구 강남대로 396, 7층',
    phone: '02-555-0101',
    openingHours: [...weekdays(['10:00', '20:00']), on(6, '10:00', '16:00')],
    policy: standardPolicy,
    slotMinutes: 30,
    slotCapacity: 3,
    treatments: [
      { id: 'gangnam-glow-botox-forehead', category: 'injectables', name: '보톡스 (이마)', nameEn: 'Botox (forehead)', priceKrw: 99_000, depositKrw: 20_000, durationMinutes: 30, bookingMode: 'instant', bookingKinds: kinds('consult-first', 'pay-and-book'), consultDurationMinutes: 15 },
      { id: 'gangnam-glow-laser-toning', category: 'laser', name: '레이저 토닝', nameEn: 'Laser toning', priceKrw: 59_000, depositKrw: 10_000, durationMinutes: 30, bookingMode: 'instant', bookingKinds: kinds('pay-and-book') },
      { id: 'gangnam-glow-nose-filler', category: 'injectables', name: '코 필러', nameEn: 'Nose filler', priceKrw: 290_000, depositKrw: 50_000, durationMinutes: 30, bookingMode: 'clinic-confirm', bookingKinds: kinds('consult-first', 'pay-and-book'), consultDurationMinutes: 20 },
      { id: 'gangnam-glow-ulthera-300', category: 'lifting', name: '울쎄라 리프팅 300샷', nameEn: 'Ulthera lifting (300 shots)', priceKrw: 1_290_000, depositKrw: 200_000, durationMinutes: 60, bookingMode: 'clinic-confirm', bookingKinds: kinds('consult-first'), consultDurationMinutes: 30 },
      // Medical care, not cosmetic: exempt from VAT (the cosmetic procedures above are taxable, the default).
      { id: 'gangnam-glow-eczema-care', category: 'medical', name: '피부질환 진료 (습진·두드러기)', nameEn: 'Skin condition care (eczema, hives)', priceKrw: 25_000, depositKrw: 0, durationMinutes: 15, bookingMode: 'instant', bookingKinds: kinds('consult-first'), consultDurationMinutes: 15, taxCategory: 'exempt' },
    ],
  },
  {
    id: 'apgujeong-line',
    name: '압구정 라인 성형외과',
    nameEn: 'Apgujeong Line Plastic Surgery',
    district: '서울 강남구 · Gangnam-gu, Seoul',
    address: '서울특별시 강남구 압구정로 340, 3층',
    phone: '02-544-0202',
    openingHours: [...weekdays(['09:30', '13:00'], ['14:00', '18:30']), on(6, '09:30', '14:00')],
    // Surgery: a longer free-cancellation window and a larger late fee.
    policy: { freeCancellationHours: 72, lateCancellationFeeKrw: 100_000, noShowForfeitsDeposit: true, minimumNoticeHours: 24 },
    slotMinutes: 60,
    slotCapacity: 2,
    treatments: [
      { id: 'apgujeong-line-eyelid-nonincision', category: 'eyes', name: '쌍꺼풀 (매몰법)', nameEn: 'Double eyelid (non-incision)', priceKrw: 1_500_000, depositKrw: 200_000, durationMinutes: 60, bookingMode: 'clinic-confirm', bookingKinds: kinds('consult-first'), consultDurationMinutes: 30 },
      { id: 'apgujeong-line-rhinoplasty-tip', category: 'nose', name: '코끝 성형', nameEn: 'Nose tip plasty', priceKrw: 3_300_000, depositKrw: 300_000, durationMinutes: 120, bookingMode: 'clinic-confirm', bookingKinds: kinds('consult-first'), consultDurationMinutes: 30 },
      { id: 'apgujeong-line-lipo-abdomen', category: 'body', name: '지방흡입 (복부)', nameEn: 'Liposuction (abdomen)', priceKrw: 2_900_000, depositKrw: 300_000, durationMinutes: 120, bookingMode: 'clinic-confirm', bookingKinds: kinds('consult-first'), consultDurationMinutes: 30 },
    ],
  },
  {
    id: 'sinsa-clear',
    name: '신사 클리어 의원',
    nameEn: 'Sinsa Clear Clinic',
    district: '서울 강남구 신사동 · Sinsa-dong, Seoul',
    address: '서울특별시 강남구 가로수길 45, 2층',
    phone: '02-511-0303',
    openingHours: [...weekdays(['11:00', '21:00']), on(6, '10:00', '17:00'), on(0, '12:00', '17:00')],
    policy: { ...standardPolicy, lateCancellationFeeKrw: 10_000 },
    slotMinutes: 30,
    slotCapacity: 2,
    treatments: [
      { id: 'sinsa-clear-aqua-peel', category: 'skin care', name: '아쿠아필', nameEn: 'Aqua peel', priceKrw: 79_000, depositKrw: 10_000, durationMinutes: 30, bookingMode: 'instant', bookingKinds: kinds('pay-and-book') },
      { id: 'sinsa-clear-acne', category: 'skin care', name: '여드름 압출 관리', nameEn: 'Acne extraction care', priceKrw: 49_000, depositKrw: 10_000, durationMinutes: 30, bookingMode: 'instant', bookingKinds: kinds('consult-first', 'pay-and-book'), consultDurationMinutes: 15 },
      { id: 'sinsa-clear-rejuran', category: 'injectables', name: '리쥬란 힐러', nameEn: 'Rejuran healer', priceKrw: 390_000, depositKrw: 50_000, durationMinutes: 60, bookingMode: 'instant', bookingKinds: kinds('consult-first', 'pay-and-book'), consultDurationMinutes: 20 },
    ],
  },
  {
    id: 'hongdae-bloom',
    name: '홍대 블룸 피부과',
    nameEn: 'Hongdae Bloom Skin Clinic',
    district: '서울 마포구 · Mapo-gu, Seoul',
    address: '서울특별시 마포구 양화로 160, 5층',
    phone: '02-332-0404',
    openingHours: [...weekdays(['10:30', '13:30'], ['14:30', '19:30']), on(6, '10:00', '15:00')],
    policy: standardPolicy,
    slotMinutes: 30,
    slotCapacity: 3,
    treatments: [
      { id: 'hongdae-bloom-hair-removal', category: 'laser', name: '겨드랑이 제모 5회', nameEn: 'Laser hair removal, underarms (5 sessions)', priceKrw: 99_000, depositKrw: 20_000, durationMinutes: 30, bookingMode: 'instant', bookingKinds: kinds('pay-and-book') },
      { id: 'hongdae-bloom-wart-cryo', category: 'medical', name: '사마귀 냉동치료', nameEn: 'Wart cryotherapy', priceKrw: 30_000, depositKrw: 0, durationMinutes: 15, bookingMode: 'instant', bookingKinds: kinds('consult-first'), consultDurationMinutes: 15, taxCategory: 'exempt' },
      { id: 'hongdae-bloom-shurink-300', category: 'lifting', name: '슈링크 300샷', nameEn: 'Shurink (300 shots)', priceKrw: 149_000, depositKrw: 30_000, durationMinutes: 30, bookingMode: 'instant', bookingKinds: kinds('consult-first', 'pay-and-book'), consultDurationMinutes: 15 },
    ],
  },
] as const;

export const demoAccounts: ReadonlyArray<{
  email: string;
  name: string;
  role: Role;
  clinicId?: (typeof demoClinics)[number]['id'];
  /** Staff only: the clinic's manager (runs its catalogue, hours, closures and settings). */
  clinicManager?: true;
  /** Patients only: the personal data of their patient record (encrypted in its events). */
  patient?: { phone: string; birthDate: string };
}> = [
  { email: 'admin@yeyak.example', name: '관리자 Admin', role: 'admin' },
  { email: 'auditor@yeyak.example', name: '정감사 Jung Auditor', role: 'auditor' },
  { email: 'gangnam.staff@yeyak.example', name: '최수아 Choi Sua', role: 'staff', clinicId: 'gangnam-glow', clinicManager: true },
  { email: 'gangnam.nurse@yeyak.example', name: '한유나 Han Yuna', role: 'staff', clinicId: 'gangnam-glow' },
  { email: 'apgujeong.staff@yeyak.example', name: '오지훈 Oh Jihun', role: 'staff', clinicId: 'apgujeong-line' },
  { email: 'sinsa.staff@yeyak.example', name: '윤하린 Yoon Harin', role: 'staff', clinicId: 'sinsa-clear' },
  { email: 'hongdae.staff@yeyak.example', name: '강도윤 Kang Doyun', role: 'staff', clinicId: 'hongdae-bloom' },
  { email: 'minji@yeyak.example', name: '김민지 Kim Minji', role: 'patient', patient: { phone: '010-2345-6789', birthDate: '1994-03-12' } },
  { email: 'seojun@yeyak.example', name: '이서준 Lee Seojun', role: 'patient', patient: { phone: '010-3456-7890', birthDate: '1989-11-02' } },
  { email: 'jiwoo@yeyak.example', name: '박지우 Park Jiwoo', role: 'patient', patient: { phone: '010-4567-8901', birthDate: '2000-07-25' } },
];
